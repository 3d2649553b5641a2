// Number, date and duration formats shared by the panels' tables, axes and tooltips.

/** Up to six significant digits; very small or large magnitudes in exponent form. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e9)) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(6)));
}

/** A duration in seconds as `45s`, `2m 05s`, `10m`, `1h 02m`, `3d 4h`: zero trailing parts are left out. */
export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  const total = Math.abs(seconds);
  if (total < 60) return `${sign}${Number(total.toFixed(total < 10 ? 1 : 0))}s`;
  const rounded = Math.round(total);
  const s = rounded % 60;
  const m = Math.floor(rounded / 60) % 60;
  const h = Math.floor(rounded / 3600) % 24;
  const d = Math.floor(rounded / 86400);
  const pad = (n: number) => String(n).padStart(2, '0');
  const [major, minor] =
    d > 0 ? [`${d}d`, h ? `${h}h` : ''] : h > 0 ? [`${h}h`, m ? `${pad(m)}m` : ''] : [`${m}m`, s ? `${pad(s)}s` : ''];
  return `${sign}${major}${minor ? ` ${minor}` : ''}`;
}

/** A wall-clock tick: the time, with seconds when ticks are under a minute apart, and the date where it changes. */
export function formatClock(timestamp: number, stepMs: number, previous: number | undefined): string {
  const date = new Date(timestamp);
  const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  if (stepMs >= 86_400_000) return day;
  const time = date.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: stepMs < 60_000 ? '2-digit' : undefined,
  });
  const newDay = previous === undefined || new Date(previous).toDateString() !== date.toDateString();
  return newDay ? `${day} ${time}` : time;
}

export function formatDateTime(timestamp: number | null): string {
  return timestamp === null
    ? ''
    : new Date(timestamp).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
