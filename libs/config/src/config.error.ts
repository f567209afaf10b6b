import { PeakWatchError } from '@peakwatch/contracts';

export interface ConfigProblem {
  key: string;
  /** The raw value with any credentials in it hidden; absent when the key was missing or is a secret. */
  value?: string;
  /** The key holds a secret: it was set, but its value is never shown. */
  secret?: boolean;
  expected: string;
}

/**
 * A value as it may be shown: the password of every URL in it (scheme://user:password@host) and the value of every
 * query parameter named for a secret replaced by `***`.
 */
export function hideCredentials(value: string): string {
  return value
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*):[^\s/@]*@/gi, '$1:***@')
    .replace(/([?&](?:token|key|secret|password|passwd|pwd|sig|signature|access_token)=)[^&\s,]*/gi, '$1***');
}

/** Start-up stops with this error; its message lists every bad key at once, with what was expected. */
export class ConfigError extends PeakWatchError {
  readonly code = 'invalid_config';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n` +
        problems
          .map((p) =>
            p.value === undefined
              ? `  - ${p.key} is ${p.secret ? 'invalid (a secret: its value is not shown)' : 'required'}: expected ${p.expected}`
              : `  - ${p.key}=${JSON.stringify(p.value)}: expected ${p.expected}`,
          )
          .join('\n'),
    );
  }
}
