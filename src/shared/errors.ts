import { redactUserInfo } from './redact';

/**
 * The one error type users see. `message` names the file, field or service at fault, and
 * `remedy` says what to do about it. Views show both, the CLI prints them on stderr. Both are
 * kept without the user info of any URI they name.
 */
export class MlopsError extends Error {
  override readonly name = 'MlopsError';
  readonly remedy?: string;

  constructor(message: string, remedy?: string, options?: { cause?: unknown }) {
    super(redactUserInfo(message), options);
    if (remedy !== undefined) this.remedy = redactUserInfo(remedy);
  }
}

/** A message for any thrown value, without a stack trace or the user info of a URI. */
export function describeError(error: unknown): string {
  if (error instanceof MlopsError) return error.remedy ? `${error.message} ${error.remedy}` : error.message;
  return redactUserInfo(error instanceof Error ? error.message : String(error));
}
