/**
 * The one error type users see. `message` names the file, field or service at fault, and
 * `remedy` says what to do about it. Views show both, the CLI prints them on stderr.
 */
export class MlopsError extends Error {
  override readonly name = 'MlopsError';

  constructor(
    message: string,
    readonly remedy?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A message for any thrown value, without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof MlopsError) return error.remedy ? `${error.message} ${error.remedy}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
