// The sources of a version are recorded with their sha256, so a table can be traced back to the
// exact bytes it was made from.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

/** A file and the sha256 of its bytes (the lake records a version's sources as these). */
export interface HashedFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface FileStamp {
  bytes: number;
  mtimeMs: number;
}

export function stampOf(path: string): FileStamp {
  const stat = statSync(path);
  return { bytes: stat.size, mtimeMs: stat.mtimeMs };
}

/** Streams a file through sha256; `onBytes` hears how many bytes were hashed so far. */
export async function sha256File(
  path: string,
  options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {},
): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal: options.signal })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    options.onBytes?.(done);
  }
  return hash.digest('hex');
}

/** Hashes the files one after the other, reporting the fraction of all their bytes. */
export async function hashFiles(
  paths: string[],
  options: { signal?: AbortSignal; onFraction?: (fraction: number, path: string) => void } = {},
): Promise<HashedFile[]> {
  const sizes = paths.map((path) => statSync(path).size);
  const total = sizes.reduce((sum, size) => sum + size, 0) || 1;
  const sources: HashedFile[] = [];
  let before = 0;
  for (const [i, path] of paths.entries()) {
    const sha256 = await sha256File(path, {
      signal: options.signal,
      onBytes: (bytes) => options.onFraction?.((before + bytes) / total, path),
    });
    sources.push({ path, sha256, bytes: sizes[i] });
    before += sizes[i];
  }
  return sources;
}
