/** How many refusals of one reason are logged one by one in a window; the rest are summed. */
export const REFUSALS_LOGGED_PER_WINDOW = 10;
/** The window of REFUSALS_LOGGED_PER_WINDOW (ms). */
export const REFUSAL_LOG_WINDOW_MS = 10_000;

export interface RefusalLogger {
  warn(fields: object, message: string): void;
}

/**
 * The log of refused MQTT connections, bounded: in each window of REFUSAL_LOG_WINDOW_MS, the first
 * REFUSALS_LOGGED_PER_WINDOW refusals of a reason are logged one by one (with the username), the rest counted and
 * logged as one line at the window's end. A flood of wrong secrets, or every device of a site reconnecting at once,
 * is then a few lines, not one per attempt; `peakwatch_mqtt_connections_refused_total` counts each.
 */
export class RefusalLog {
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private readonly logged = new Map<string, number>();
  private readonly unlogged = new Map<string, { count: number; message: string }>();

  constructor(
    private readonly logger: RefusalLogger,
    private readonly now: () => number = Date.now,
  ) {}

  refused(reason: string, fields: object, message: string): void {
    if (this.now() - this.windowStartMs >= REFUSAL_LOG_WINDOW_MS) this.flush();
    const logged = this.logged.get(reason) ?? 0;
    if (logged < REFUSALS_LOGGED_PER_WINDOW) {
      this.logged.set(reason, logged + 1);
      this.logger.warn({ ...fields, reason }, message);
      return;
    }
    const entry = this.unlogged.get(reason) ?? { count: 0, message };
    entry.count++;
    this.unlogged.set(reason, entry);
  }

  /** Logs the refusals counted but not logged, and starts a new window, once the window has ended. */
  tick(): void {
    if (this.now() - this.windowStartMs >= REFUSAL_LOG_WINDOW_MS) this.flush();
  }

  /** Logs the refusals counted but not logged, and starts a new window. */
  flush(): void {
    for (const [reason, { count, message }] of this.unlogged)
      this.logger.warn(
        { reason, refused: count, windowSeconds: REFUSAL_LOG_WINDOW_MS / 1000 },
        `${message} (${count} more in this window, not logged one by one)`,
      );
    this.unlogged.clear();
    this.logged.clear();
    this.windowStartMs = this.now();
  }
}
