// Which workspace files count as datasets. VS Code's search also applies files.exclude.
export const DATASET_EXTENSIONS = ['csv', 'tsv', 'parquet', 'json', 'jsonl'];

export const DATASET_GLOB = `**/*.{${DATASET_EXTENSIONS.join(',')}}`;

// JSON is a dataset format, but most JSON files in a workspace are tool configuration.
const CONFIG_JSON =
  /^(package(-lock)?|tsconfig(\..+)?|jsconfig|settings|launch|tasks|extensions|composer|manifest|\.?eslintrc|\.?prettierrc|renovate|turbo|lerna)\.json$|\.config\.json$/i;

export function isDatasetFileName(name: string): boolean {
  return !CONFIG_JSON.test(name);
}
