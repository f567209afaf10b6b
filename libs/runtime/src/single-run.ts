/**
 * A scheduled job that may outlast its period: a tick while the previous run is still going is skipped, and a failed
 * run is reported to `onError` (the next tick covers its work again) instead of escaping into the scheduler.
 */
export class SingleRun {
  private running: Promise<void> | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  async run(work: () => Promise<unknown>): Promise<void> {
    if (this.running) return;
    this.running = work()
      .then(() => undefined, this.onError)
      .finally(() => (this.running = undefined));
    await this.running;
  }
}
