const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `stop` once on the first SIGINT or SIGTERM, then exits with 0 (1 if it failed). A second signal, or `stop`
 * running past `timeoutMs`, exits at once with 1: a stuck shutdown never keeps a terminal or orchestrator waiting.
 */
export function onShutdownSignal(stop: () => Promise<void>, timeoutMs: number): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
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
