/**
 * Where long work stands (backfills, imports): how much is done, of how much when known, its rate, and the time left
 * at that rate. On a terminal a line redrawn in place; otherwise a structured log line every `everyMs`.
 */
export interface ProgressFields {
  done: number;
  total?: number;
  percent?: number;
  perSecond: number;
  leftSeconds?: number;
}

/**
 * The fields of a progress report after `elapsedMs` (no I/O). Work that ends at a known time rather than at a known
 * count (a benchmark's timed phase) gives `leftMs`, which then is the time left.
 */
export function progressFields(
  done: number,
  total: number | undefined,
  elapsedMs: number,
  leftMs?: number,
): ProgressFields {
  const perSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  if (leftMs !== undefined)
    return { done, perSecond: Math.round(perSecond), leftSeconds: Math.ceil(Math.max(0, leftMs) / 1000) };
  if (total === undefined || total <= 0) return { done, perSecond: Math.round(perSecond) };
  const fraction = Math.min(1, done / total);
  return {
    done,
    total,
    percent: Math.floor(fraction * 1000) / 10,
    perSecond: Math.round(perSecond),
    ...(perSecond > 0 ? { leftSeconds: Math.ceil(Math.max(0, total - done) / perSecond) } : {}),
  };
}

/** One line of progress: `import: 45.0% 12,345 of 27,432 rows, 5,000/s, 3 s left`. */
export function progressText(label: string, unit: string, f: ProgressFields): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return (
    `${label}: ${f.percent !== undefined ? `${f.percent.toFixed(1)}% ` : ''}${n(f.done)}` +
    `${f.total !== undefined ? ` of ${n(f.total)}` : ''} ${unit}, ${n(f.perSecond)}/s` +
    (f.leftSeconds !== undefined ? `, ${f.leftSeconds} s left` : '')
  );
}

export class Progress {
  private readonly startedAt: number;
  /** When a line was last shown: the first comes one interval after the start, with a rate worth reading. */
  private shownAt: number;
  private total: number | undefined;

  constructor(
    private readonly label: string,
    private readonly unit: string,
    private readonly options: {
      total?: number;
      /** Where the line goes (standard error): redrawn in place on a terminal. */
      stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
      /** How often a log line is written when the stream is not a terminal (ms). */
      everyMs?: number;
      /** When the work ends, for work bounded by time rather than by a count (epoch ms). */
      endsAt?: number;
      /** Where the log lines go instead of the stream, terminal or not (an app's logger). */
      log?: (fields: ProgressFields & { task: string; unit: string }) => void;
      now?: () => number;
    } = {},
  ) {
    this.total = options.total;
    this.startedAt = this.now();
    this.shownAt = this.startedAt;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private get stream(): Pick<NodeJS.WriteStream, 'write' | 'isTTY'> {
    return this.options.stream ?? process.stderr;
  }

  /** A line redrawn in place: on a terminal, unless the lines go to a logger. */
  private get tty(): boolean {
    return this.options.log === undefined && this.stream.isTTY === true;
  }

  /** `done` so far (and the total, once known); shown when due. */
  update(done: number, total?: number): void {
    if (total !== undefined) this.total = total;
    const at = this.now();
    const tty = this.tty;
    if (at - this.shownAt < (tty ? 200 : (this.options.everyMs ?? 10_000))) return;
    this.shownAt = at;
    this.show(done, tty);
  }

  /** The last line: where it ended. */
  finish(done: number): void {
    this.show(done, this.tty);
    if (this.tty) this.stream.write('\n');
  }

  private show(done: number, tty: boolean): void {
    const at = this.now();
    const { endsAt } = this.options;
    const fields = progressFields(
      done,
      this.total,
      at - this.startedAt,
      endsAt === undefined ? undefined : endsAt - at,
    );
    if (tty) this.stream.write(`\r${progressText(this.label, this.unit, fields)}\x1b[K`);
    else if (this.options.log) this.options.log({ task: this.label, unit: this.unit, ...fields });
    else
      this.stream.write(
        `${JSON.stringify({ msg: 'progress', task: this.label, unit: this.unit, ...fields, time: new Date(at).toISOString() })}\n`,
      );
  }
}
