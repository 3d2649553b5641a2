// The user info of a URI (http://user:password@host, tcp://user:pw@host:2376) is a credential.
// Every message, log line and label that shows a URI shows it through here, without it.

// scheme://userinfo@ — greedy up to the last '@' before the host ends, as URL parsers read it.
const USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;

/** The text with the user info of every URI in it replaced by `***`. */
export function redactUserInfo(text: string): string {
  return text.replace(USER_INFO, '$1***@');
}
