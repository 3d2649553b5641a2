// The tracking store the Experiments view reads: resolved on first use (trackingStoreResolver.ts's
// rule, from the sources the extension gives) and reopened after reset() when a source changes. A
// tracking server gets the token kept for its own origin, never one set for another server.
import { migrateUnkeyedSecret, type SecretStore } from '../shared/hostSecrets';
import type { Logger } from '../shared/logger';
import type { TrackingStore } from './model';
import {
  locateTrackingStore,
  openTrackingStore,
  resolveTrackingStore,
  type ResolvedTrackingStore,
  type TrackingSources,
} from './trackingStoreResolver';

export interface OpenedTrackingStore {
  store: TrackingStore;
  resolved: ResolvedTrackingStore;
}

export class TrackingStoreHolder {
  private opened: Promise<OpenedTrackingStore | undefined> | undefined;
  private migrated: Promise<void> | undefined;

  constructor(
    private readonly options: {
      /** The sources as they are now (settings, environment, workspace); read at each open. */
      sources(): Omit<TrackingSources, 'secrets'>;
      /** The tracking URI of the user's own settings or the environment, never a workspace's. */
      userTrackingUri(): string | undefined;
      secrets: SecretStore;
      log: Logger;
    },
  ) {}

  async current(): Promise<OpenedTrackingStore | undefined> {
    this.opened ??= this.open();
    return this.opened;
  }

  /** Moves a token kept before tokens were per host to the server of the user's own settings, once. */
  migrateToken(): Promise<void> {
    const { secrets, log, userTrackingUri } = this.options;
    this.migrated ??= migrateUnkeyedSecret(secrets, 'trackingToken', userTrackingUri(), log).catch((error: unknown) =>
      log.warn(`secrets: the tracking token could not be moved: ${(error as Error).message}`),
    );
    return this.migrated;
  }

  private async open(): Promise<OpenedTrackingStore | undefined> {
    const sources = { ...this.options.sources(), secrets: this.options.secrets };
    const located = locateTrackingStore(sources);
    if (!located) return undefined;
    await this.migrateToken();
    const resolved = await resolveTrackingStore(sources, located);
    return resolved && { store: openTrackingStore(resolved, { timeoutMs: 15_000 }), resolved };
  }

  /** Closes the store so that the next read reopens it from the current sources. */
  async reset(): Promise<void> {
    const previous = this.opened;
    this.opened = undefined;
    const current = await previous?.catch(() => undefined);
    await current?.store.close();
  }

  dispose(): void {
    void this.reset();
  }
}
