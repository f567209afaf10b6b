/**
 * The base of PeakWatch's errors: a stable `code` a caller can act on (docs/contracts.md, "Errors"), the message a
 * person reads (never a secret), and for bad input the `field` at fault. The API maps codes to HTTP statuses in one
 * place (apps/api PeakWatchErrorFilter); the command line prints the message of every PeakWatchError without a stack.
 */
export abstract class PeakWatchError extends Error {
  abstract readonly code: string;
  readonly field?: string;

  constructor(message: string, options: { field?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.field !== undefined) this.field = options.field;
  }
}
