/**
 * Keeps secrets out of everything the tool prints besides its intended output: known secret
 * values are replaced wherever they occur, and anything shaped like a JWT is masked too.
 */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** Shorter values are too likely to occur by chance to be worth replacing. */
const MIN_SECRET_LENGTH = 8;

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
    return result.replace(JWT_SHAPE, '[REDACTED JWT]');
  }
}
