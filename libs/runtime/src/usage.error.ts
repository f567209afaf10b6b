/** Bad command-line usage: exit code 2 (README, "Command line"). */
export class UsageError extends Error {
  readonly code = 'bad_usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
