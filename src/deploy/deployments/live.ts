// Keeps the Deployments view current: one change stream per target (Docker events for a swarm,
// watches for Kubernetes; the target debounces it), polling for targets whose stream is
// unavailable, and a slow re-read even with one, since a stream that dies with its daemon says
// nothing. No vscode, so the fallback is unit-tested with fake timers.
import { describeError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { DeployTarget } from '../targets/deployTarget';
/** Follows a target's changes; the default asks the target itself (DeployTarget.watch). */
export type WatchEvents = (target: DeployTarget, onChange: () => void, signal: AbortSignal) => unknown;

export interface LiveUpdatesOptions {
  watchEvents?: WatchEvents;
  /** Called when something changed on a target (coalesced), or on each poll. */
  onChange: () => void;
  /** Milliseconds between polls of targets without events; read at each poll. */
  pollMs: () => number;
  /** Whether anyone looks: polls are skipped otherwise. */
  wanted: () => boolean;
  log?: Logger;
  /** Coalesces bursts of changes from several targets. */
  debounceMs?: number;
  /** How often targets followed by events are re-read anyway (a dead stream sends nothing). */
  safetyMs?: number;
}

type WatchState = { mode: 'starting' | 'events' | 'polling'; abort: AbortController; warned: boolean };

export class LiveUpdates {
  private readonly watches = new Map<string, WatchState>();
  private poll: NodeJS.Timeout | undefined;
  private safety: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly options: LiveUpdatesOptions) {}

  /**
   * Follows `target` under `key`. A target already followed by events is left alone; one that fell
   * back to polling tries its event stream again.
   */
  watch(key: string, label: string, target: DeployTarget): void {
    if (this.disposed) return;
    const existing = this.watches.get(key);
    if (existing && existing.mode !== 'polling') return;
    existing?.abort.abort();
    const state: WatchState = { mode: 'starting', abort: new AbortController(), warned: existing?.warned ?? false };
    this.watches.set(key, state);
    const fallBack = (why: string) => {
      if (state.abort.signal.aborted || this.watches.get(key) !== state) return;
      state.mode = 'polling';
      if (!state.warned)
        this.options.log?.warn(
          `deployments: no change events from ${label} (${why}); polling every ${Math.round(this.options.pollMs() / 1000)} s instead`,
        );
      state.warned = true;
      this.ensurePolling();
    };
    const signal = state.abort.signal;
    try {
      const watchEvents = this.options.watchEvents ?? ((watched, onChange, abort) => watched.watch(onChange, abort));
      const running = watchEvents(
        target,
        () => {
          // The first change after a fallback proves the stream works again.
          if (state.warned) this.options.log?.info(`deployments: following the changes of ${label} again`);
          state.warned = false;
          this.changed();
        },
        signal,
      );
      if (state.mode === 'starting') state.mode = 'events';
      this.ensureSafety();
      // The target answers false (or fails) when it offers no change stream.
      if (running === false) fallBack('the target offers no change stream');
      else if (isThenable(running)) {
        running.then(
          (started) => started === false && fallBack('the target offers no change stream'),
          (error: unknown) => fallBack(describeError(error)),
        );
      }
    } catch (error) {
      fallBack(describeError(error));
    }
  }

  /**
   * Polls `key` because its target cannot be reached at all (so no event stream either); the
   * next watch() after it answers again follows its events.
   */
  unreachable(key: string, label: string, why: string): void {
    if (this.disposed) return;
    const existing = this.watches.get(key);
    if (existing?.mode === 'polling') return;
    existing?.abort.abort();
    this.options.log?.info(
      `deployments: polling ${label} every ${Math.round(this.options.pollMs() / 1000)} s until it answers (${why})`,
    );
    this.watches.set(key, { mode: 'polling', abort: new AbortController(), warned: true });
    this.ensurePolling();
  }

  /** Stops following targets that are no longer configured. */
  retain(keys: ReadonlySet<string>): void {
    for (const [key, state] of this.watches) {
      if (!keys.has(key)) {
        state.abort.abort();
        this.watches.delete(key);
      }
    }
    this.updatePolling();
  }

  /** Whether `key` is followed by events (false while starting, polling, or not followed). */
  followsEvents(key: string): boolean {
    return this.watches.get(key)?.mode === 'events';
  }

  dispose(): void {
    this.disposed = true;
    for (const state of this.watches.values()) state.abort.abort();
    this.watches.clear();
    clearTimeout(this.poll);
    clearTimeout(this.safety);
    clearTimeout(this.debounce);
    this.poll = undefined;
    this.safety = undefined;
  }

  private changed(): void {
    if (this.disposed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.options.onChange(), this.options.debounceMs ?? 300);
  }

  private ensurePolling(): void {
    if (this.poll || this.disposed) return;
    const tick = () => {
      this.poll = undefined;
      if (![...this.watches.values()].some((state) => state.mode === 'polling')) return;
      if (this.options.wanted()) this.options.onChange();
      this.poll = setTimeout(tick, Math.max(1000, this.options.pollMs()));
    };
    this.poll = setTimeout(tick, Math.max(1000, this.options.pollMs()));
  }

  private ensureSafety(): void {
    if (this.safety || this.disposed) return;
    const every = this.options.safetyMs ?? 120_000;
    const tick = () => {
      this.safety = undefined;
      if (![...this.watches.values()].some((state) => state.mode === 'events')) return;
      if (this.options.wanted()) this.options.onChange();
      this.safety = setTimeout(tick, every);
    };
    this.safety = setTimeout(tick, every);
  }

  private updatePolling(): void {
    if (![...this.watches.values()].some((state) => state.mode === 'polling')) {
      clearTimeout(this.poll);
      this.poll = undefined;
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
