// Docker multiplexes a container's stdout and stderr into one stream of frames.
/** The text of multiplexed logs: frames of an 8-byte header (stream, 0, 0, 0, length) and the bytes. */
export function frameText(buffer: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buffer.length && buffer[at]! <= 2 && buffer.readUIntBE(at + 1, 3) === 0) {
    const size = buffer.readUInt32BE(at + 4);
    parts.push(buffer.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  // A TTY's output has no frames; whatever does not parse as frames is text as it is.
  return Buffer.concat([...parts, buffer.subarray(at)]).toString('utf8');
}
