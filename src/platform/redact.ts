/**
 * Keeps secrets out of everything the tool prints besides its intended output: known secret
 * values are replaced wherever they occur, anything shaped like a JWT is masked too, and so are
 * credentials written into a URL (`http://user:password@proxy`, an endpoint with a password),
 * whichever message or library error happens to quote the URL.
 */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/**
 * `scheme://user:password@` or `scheme://user@` (a user name alone is often a token). The user
 * info ends at the last `@` before the host, so a password holding an unencoded `@` is masked
 * whole; it cannot span white space, `/`, `?` or `#`, so a URL without user info never matches.
 */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*)(:[^\s/?#]*)?@/gi;
/** Shorter values are too likely to occur by chance to be worth replacing. */
const MIN_SECRET_LENGTH = 8;

/** The mask `describeProxy` uses too, so a URL already masked stays as it is. */
function maskUserInfo(_match: string, scheme: string, user: string, password: string | undefined): string {
  return password === undefined ? `${scheme}****@` : `${scheme}${user}:****@`;
}

export class Redactor {
  readonly #secrets = new Set<string>();

  add(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) this.#secrets.add(secret);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      result = result.replaceAll(secret, '[REDACTED]');
    }
    return result.replace(JWT_SHAPE, '[REDACTED JWT]').replace(URL_USER_INFO, maskUserInfo);
  }
}
