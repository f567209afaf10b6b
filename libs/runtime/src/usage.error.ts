import { PeakWatchError } from '@peakwatch/contracts';

/** Bad command-line usage: exit code 2 (README, "Command line"). */
export class UsageError extends PeakWatchError {
  readonly code = 'bad_usage';
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
