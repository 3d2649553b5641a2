// The Review panel's state without the DOM: the samples in order, the one shown, the verdicts
// given in this session, and what each key does.
import type { ReviewSample, Verdict } from '../../../src/release/review/contract';

export const VERDICT_BUTTONS: { verdict: Verdict; key: string; text: string; icon: string }[] = [
  { verdict: 'candidate', key: '1', text: 'Candidate right', icon: 'arrow-right' },
  { verdict: 'production', key: '2', text: 'Production right', icon: 'arrow-left' },
  { verdict: 'both', key: '3', text: 'Both right', icon: 'check-all' },
  { verdict: 'neither', key: '4', text: 'Neither', icon: 'close' },
];

export type KeyAction = { kind: 'verdict'; verdict: Verdict } | { kind: 'move'; by: 1 | -1 } | { kind: 'comment' };

/** What a key does; nothing while typing in a text field (except Escape, handled by the page). */
export function keyAction(key: string, typing: boolean): KeyAction | undefined {
  if (typing) return undefined;
  const verdict = VERDICT_BUTTONS.find((b) => b.key === key)?.verdict;
  if (verdict) return { kind: 'verdict', verdict };
  if (key === 'j' || key === 'ArrowRight' || key === 'ArrowDown') return { kind: 'move', by: 1 };
  if (key === 'k' || key === 'ArrowLeft' || key === 'ArrowUp') return { kind: 'move', by: -1 };
  if (key === 'c') return { kind: 'comment' };
  return undefined;
}

export class ReviewQueue {
  private samples: ReviewSample[] = [];
  private index = 0;
  /** Verdicts given while the panel is open; judged samples stay in the list to be changed. */
  readonly verdicts = new Map<string, Verdict>();

  /** New samples from the host: judged ones kept where they were, the shown one still shown. */
  load(samples: readonly ReviewSample[]): void {
    const shown = this.current()?.requestId;
    const fresh = new Set(samples.map((s) => s.requestId));
    const judged = this.samples.filter((s) => this.verdicts.has(s.requestId) && !fresh.has(s.requestId));
    this.samples = [...judged, ...samples];
    const at = this.samples.findIndex((s) => s.requestId === shown);
    this.index = at >= 0 ? at : Math.min(judged.length, Math.max(this.samples.length - 1, 0));
  }

  current(): ReviewSample | undefined {
    return this.samples[this.index];
  }

  get position(): { index: number; count: number; pending: number } {
    return {
      index: this.index,
      count: this.samples.length,
      pending: this.samples.filter((s) => !this.verdicts.has(s.requestId)).length,
    };
  }

  move(by: number): void {
    this.index = Math.min(Math.max(this.index + by, 0), Math.max(this.samples.length - 1, 0));
  }

  /** Records a verdict and shows the next sample not judged yet (after this one, else before). */
  decided(requestId: string, verdict: Verdict): void {
    this.verdicts.set(requestId, verdict);
    if (this.current()?.requestId !== requestId) return;
    const after = this.samples.findIndex((s, i) => i > this.index && !this.verdicts.has(s.requestId));
    const before = this.samples.findIndex((s) => !this.verdicts.has(s.requestId));
    if (after >= 0) this.index = after;
    else if (before >= 0) this.index = before;
  }
}

/** A value of an input or an answer as text: strings as they are, the rest as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '—';
  return JSON.stringify(value);
}
