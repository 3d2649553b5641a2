// Series colours with at least 3:1 contrast on both VS Code's light and dark editor backgrounds.
export const SERIES_COLORS = [
  '#3b7dd8', // blue
  '#e0732b', // orange
  '#2e9e5b', // green
  '#d9485a', // red
  '#9064cf', // purple
  '#1b9aaa', // teal
  '#c8489a', // pink
  '#a27a2c', // ochre
  '#6f8f1d', // olive
  '#808080', // grey
] as const;

export interface SeriesStyle {
  color: string;
  /** Line dash, so that series past the tenth stay apart from the ones sharing their colour. */
  dash: number[];
}

const DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

export function seriesStyle(index: number): SeriesStyle {
  const round = Math.floor(index / SERIES_COLORS.length);
  return { color: SERIES_COLORS[index % SERIES_COLORS.length], dash: DASHES[round % DASHES.length] };
}

/** `#rrggbb` with an alpha channel. */
export function withAlpha(color: string, alpha: number): string {
  return `${color}${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}`;
}
