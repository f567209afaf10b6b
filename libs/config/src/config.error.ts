export interface ConfigProblem {
  key: string;
  /** The raw value, absent when the key was missing. */
  value?: string;
  expected: string;
}

/** Start-up stops with this error; its message lists every bad key at once, with what was expected. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n` +
        problems
          .map((p) =>
            p.value === undefined
              ? `  - ${p.key} is required: expected ${p.expected}`
              : `  - ${p.key}=${JSON.stringify(p.value)}: expected ${p.expected}`,
          )
          .join('\n'),
    );
    this.name = 'ConfigError';
  }
}
