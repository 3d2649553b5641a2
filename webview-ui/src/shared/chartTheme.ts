// chart.js follows the VS Code theme: text, grid and tooltip colours come from the theme's CSS
// variables, and are read again when the user switches themes.
import { Chart } from 'chart.js';

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  fontFamily: string;
  fontSize: number;
}

export function themeColors(): ThemeColors {
  const style = getComputedStyle(document.documentElement);
  const read = (...names: string[]) => names.map((name) => style.getPropertyValue(name).trim()).find(Boolean) ?? '';
  return {
    foreground: read('--vscode-charts-foreground', '--vscode-foreground') || '#888',
    muted: read('--vscode-descriptionForeground', '--vscode-foreground') || '#888',
    grid:
      read('--vscode-charts-lines', '--vscode-editorWidget-border', '--vscode-panel-border') || 'rgba(128,128,128,0.3)',
    background: read('--vscode-editor-background') || '#fff',
    fontFamily: read('--vscode-font-family') || 'sans-serif',
    fontSize: parseFloat(read('--vscode-font-size')) || 13,
  };
}

function applyChartTheme(): void {
  const theme = themeColors();
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  Chart.defaults.color = theme.foreground;
  Chart.defaults.borderColor = theme.grid;
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = theme.fontSize - 1;
  const tooltip = Chart.defaults.plugins.tooltip;
  tooltip.backgroundColor = read('--vscode-editorHoverWidget-background', theme.background);
  tooltip.titleColor = read('--vscode-editorHoverWidget-foreground', theme.foreground);
  tooltip.bodyColor = read('--vscode-editorHoverWidget-foreground', theme.foreground);
  tooltip.borderColor = read('--vscode-editorHoverWidget-border', theme.grid);
  tooltip.borderWidth = 1;
  tooltip.cornerRadius = 3;
  tooltip.titleFont = { weight: 'bold' };
  tooltip.boxPadding = 4;
}

/**
 * Themes chart.js now and whenever VS Code changes the theme (it rewrites the root style and the
 * body class). `redraw` then rebuilds the charts: chart.update() alone keeps the scales' old colours.
 */
export function followTheme(redraw: () => void): void {
  applyChartTheme();
  const observer = new MutationObserver(() => {
    applyChartTheme();
    redraw();
  });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
}

/**
 * What every line chart of the panels shares: points already downsampled on the host (no parsing,
 * no animation), gaps kept, the nearest point along x under the pointer, and thin lines.
 */
export function lineChartBase() {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    spanGaps: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hoverRadius: 3, hitRadius: 4 }, line: { borderWidth: 1.5 } },
  } as const;
}
