// The time windows of the Monitor panel and how the page names them. Only types come from the
// protocol: its values would bring the host's valibot schemas into the bundle.
import type { MonitorRange } from '../../../src/monitor/contract';

/** The contract's MONITOR_RANGES with their names in the picker, shortest first (a unit test keeps them equal). */
export const RANGE_CHOICES: readonly { seconds: MonitorRange; label: string }[] = [
  { seconds: 300, label: '5 min' },
  { seconds: 900, label: '15 min' },
  { seconds: 3600, label: '1 h' },
  { seconds: 21600, label: '6 h' },
  { seconds: 86400, label: '24 h' },
  { seconds: 604800, label: '7 days' },
];

/** The contract's DEFAULT_MONITOR_RANGE. */
export const DEFAULT_RANGE: MonitorRange = 900;

export function isMonitorRange(seconds: number): seconds is MonitorRange {
  return RANGE_CHOICES.some((choice) => choice.seconds === seconds);
}

/** A window's length in words, as in "the last 15 minutes": "5 minutes", "1 hour", "24 hours", "7 days". */
export function windowLength(seconds: number): string {
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? '' : 's'}`;
  const whole = (n: number) => Math.abs(n - Math.round(n)) < 0.05;
  if (seconds >= 2 * 86400 && whole(seconds / 86400)) return unit(Math.round(seconds / 86400), 'day');
  if (seconds >= 3600 && whole(seconds / 3600)) return unit(Math.round(seconds / 3600), 'hour');
  if (seconds >= 60) return unit(Math.round(seconds / 60), 'minute');
  return unit(Math.max(0, Math.round(seconds)), 'second');
}
