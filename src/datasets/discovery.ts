// Which workspace files count as datasets. VS Code's search also applies files.exclude.
export const DATASET_EXTENSIONS = ['csv', 'tsv', 'parquet', 'json', 'jsonl'];

export const DATASET_GLOB = `**/*.{${DATASET_EXTENSIONS.join(',')}}`;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

// JSON is a dataset format, but most JSON files in a workspace are tool configuration.
const CONFIG_JSON =
  /^(package(-lock)?|tsconfig(\..+)?|jsconfig|settings|launch|tasks|extensions|composer|manifest|\.?eslintrc|\.?prettierrc|renovate|turbo|lerna)\.json$|\.config\.json$/i;

export function isDatasetFileName(name: string): boolean {
  return !CONFIG_JSON.test(name);
}
