// Chart images for export: the charts on the theme's background, each under its title, in a
// grid of up to two columns, at the canvases' own resolution.
import type { ThemeColors } from '../shared/chartTheme';

export interface ChartImage {
  title: string;
  canvas: HTMLCanvasElement;
}

export function chartsPng(charts: readonly ChartImage[], theme: ThemeColors): string {
  const scale = window.devicePixelRatio || 1;
  const padding = Math.round(16 * scale);
  const titleHeight = Math.round(theme.fontSize * 2 * scale);
  const cellWidth = Math.max(...charts.map((chart) => chart.canvas.width)) + 2 * padding;
  const cellHeight = Math.max(...charts.map((chart) => chart.canvas.height)) + titleHeight + 2 * padding;
  const columns = charts.length > 1 ? 2 : 1;
  const image = document.createElement('canvas');
  image.width = cellWidth * columns;
  image.height = cellHeight * Math.ceil(charts.length / columns);
  const context = image.getContext('2d');
  if (!context) throw new Error('This webview cannot draw images.');
  context.fillStyle = theme.background;
  context.fillRect(0, 0, image.width, image.height);
  context.fillStyle = theme.foreground;
  context.font = `600 ${Math.round(theme.fontSize * 1.1 * scale)}px ${theme.fontFamily}`;
  context.textBaseline = 'middle';
  charts.forEach((chart, i) => {
    const left = (i % columns) * cellWidth + padding;
    const top = Math.floor(i / columns) * cellHeight + padding;
    context.fillText(chart.title, left, top + titleHeight / 2, cellWidth - 2 * padding);
    context.drawImage(chart.canvas, left, top + titleHeight);
  });
  return image.toDataURL('image/png');
}
