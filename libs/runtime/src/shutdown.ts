const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * A repeat within this window is the same request delivered twice: Ctrl-C reaches every process of the terminal's
 * foreground group, and `npm run` wrappers also forward it (ms).
 */
const REPEAT_WINDOW_MS = 1_000;

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits with 0 (1 if it failed). A later signal, or `stop`
 * running past `timeoutMs`, exits at once with 1: a stuck shutdown never keeps a terminal or orchestrator waiting.
 */
export function onShutdownSignal(stop: () => Promise<void>, timeoutMs: number): void {
  let firstAt: number | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (firstAt !== undefined) {
      if (Date.now() - firstAt < REPEAT_WINDOW_MS) return;
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    firstAt = Date.now();
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${timeoutMs} ms: exiting\n`);
      process.exit(1);
    }, timeoutMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, handler);
}
