// The file a dataset panel shows: its path, name and size.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DatasetFile } from './contract';

export function datasetFile(path: string): DatasetFile {
  return { path, name: basename(path) };
}

/** The size is left out when the file cannot be stat'ed: the panel then says what reading it gives. */
export async function withSize(file: DatasetFile): Promise<DatasetFile> {
  const bytes = await stat(file.path).then(
    (stats) => stats.size,
    () => undefined,
  );
  return bytes === undefined ? file : { ...file, bytes };
}
