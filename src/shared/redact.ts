// The user info of a URI (http://user:password@host, tcp://user:pw@host:2376) is a credential.
// Every message, log line and label that shows a URI shows it through here, without it.

// scheme://userinfo@ — greedy up to the last '@' before the host ends, as URL parsers read it.
const USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;

/** The text with the user info of every URI in it replaced by `***`. */
export function redactUserInfo(text: string): string {
  return text.replace(USER_INFO, '$1***@');
}

/**
 * A value known to be one URI, with everything up to its last '@' before the host hidden: a
 * password typed with a '/' in it (not percent-encoded) is hidden whole too.
 */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1***@');
}
