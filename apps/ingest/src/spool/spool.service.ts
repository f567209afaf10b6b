import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { HealthRegistry } from '@peakwatch/runtime';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { Spool, type AppendCallback } from './spool';

/** Lines sent to InfluxDB in one write (docs/measurements.md: influxd takes ≈190k points/s in 10,000-line batches). */
const WRITE_BATCH_LINES = 10_000;
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/** Backoff after a failed write: jittered exponential from 100 ms to 10 s, or InfluxDB's Retry-After. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;
/**
 * Shortest time between the starts of two writes, unless a full batch is waiting (ms): under load InfluxDB gets
 * fewer, larger writes (less CPU for both sides, fewer WAL syncs competing with the spool's), at the cost of up to
 * this much delay before readings are queryable. The first write after a quiet spell goes at once.
 */
const WRITE_INTERVAL_MS = 100;
/** How long the drainer waits for new records before looking again (ms). */
const IDLE_WAIT_MS = 250;

/**
 * Owns the spool: appends (acknowledged only once on disk) and the drain loop that writes the spool, oldest first,
 * to InfluxDB through the official client's WriteApi on the v1 `/write` path. While InfluxDB is down the records
 * wait on disk; at the disk budget `append` waits (the broker withholds acknowledgements) until space is freed.
 */
@Injectable()
export class SpoolService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SpoolService');
  private spool!: Spool;
  private writeApi!: WriteApi;
  private running = false;
  private drained: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Appends waiting for the spool to drain below its budget, oldest first. */
  private held: { record: string; done: AppendCallback }[] = [];
  private influxDown = false;
  private fullSince: number | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly metrics: IngestMetrics,
    private readonly health: HealthRegistry,
  ) {}

  async onModuleInit(): Promise<void> {
    // The client logs failed writes itself; ours are logged here, once per outage.
    setLogger({ error: () => undefined, warn: () => undefined });
    this.spool = await Spool.open({
      dir: join(this.config.dataDir, 'spool'),
      maxBytes: this.config.ingest.spoolMaxBytes,
    });
    this.writeApi = this.influx.createWriteApi({
      batchSize: WRITE_BATCH_LINES + 1, // never reached: we decide the batches (the client preallocates this many)
      flushInterval: 0,
      maxRetries: 0, // the spool retries; the client's retry buffer would drop the oldest lines when full
    });
    this.spool.onAppend(() => this.wake?.());
    this.health.register('spool', () => Promise.resolve(!this.spool.full));
    this.metrics.spool = this.spool;
    if (this.spool.depth > 0)
      this.logger.log({ records: this.spool.depth }, 'spool holds records from an earlier run');
    this.running = true;
    this.drained = this.drainLoop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.drained;
    await this.spool.close();
    await this.writeApi.close().catch(() => undefined);
  }

  get depth(): number {
    return this.spool.depth;
  }

  /**
   * Appends a record; `done` is called once it is durable. While the spool is at its disk budget the record is held
   * (not written, not acknowledged) until the drain frees space.
   */
  append(record: string, done: AppendCallback): void {
    if (this.held.length === 0 && !this.spool.full) return this.spool.append(record, done);
    if (this.fullSince === undefined) {
      this.fullSince = Date.now();
      this.metrics.spoolFull.set(1);
      this.logger.warn(
        { bytes: this.spool.bytes, budget: this.config.ingest.spoolMaxBytes },
        'spool full: withholding acknowledgements until InfluxDB drains it',
      );
    }
    this.held.push({ record, done });
  }

  private async drainLoop(): Promise<void> {
    let attempt = 0;
    while (this.running || this.spool.depth > 0) {
      const batch = this.spool.read({ maxLines: WRITE_BATCH_LINES, maxBytes: WRITE_BATCH_BYTES });
      if (!batch) {
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, IDLE_WAIT_MS).unref();
        });
        this.wake = undefined;
        continue;
      }
      const started = process.hrtime.bigint();
      try {
        await this.write(batch.records);
        this.metrics.writeLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        this.spool.commit(batch.next, batch.lines);
        this.metrics.readingsStored.inc(batch.lines);
        if (this.influxDown)
          this.logger.log({ backlog: this.spool.depth }, 'InfluxDB is back: draining the spool');
        this.influxDown = false;
        attempt = 0;
        this.freeSpace();
        const rest = WRITE_INTERVAL_MS - Number(process.hrtime.bigint() - started) / 1e6;
        if (rest > 0 && this.running) await this.gather(rest);
      } catch (error) {
        this.spool.rewind();
        if (!this.influxDown)
          this.logger.warn(
            { err: String(error), backlog: this.spool.depth },
            'InfluxDB write failed: keeping readings in the spool',
          );
        this.influxDown = true;
        if (!this.running) break; // shutting down: the records stay on disk for the next start
        attempt++;
        const retryAfterMs = error instanceof HttpError && error.retryAfter() > 0 ? error.retryAfter() : 0;
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(Math.max(retryAfterMs, backoff));
      }
    }
  }

  /** Waits up to `ms` for a full batch to be waiting in the spool (at once if there is one, or on shutdown). */
  private gather(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const full = (): boolean => !this.running || this.spool.depth >= WRITE_BATCH_LINES;
      if (full()) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => {
        if (full()) done();
      };
    });
  }

  /**
   * Writes records to InfluxDB. A 4xx answer (other than 429) means some line is invalid: then the lines are written
   * again in halves, down to single lines, and the lines InfluxDB still refuses go to `spool/dead-letter.log`, so that
   * one bad line never blocks the spool (a line written twice is the same point). Server errors and network failures
   * throw (retried later, nothing lost).
   */
  private async write(records: string[]): Promise<void> {
    try {
      this.writeApi.writeRecords(records);
      await this.writeApi.flush();
    } catch (error) {
      if (!refused(error)) throw error;
      const lines = records.flatMap((record) => record.split('\n'));
      if (lines.length === 1) {
        this.metrics.linesDeadLettered.inc();
        this.logger.error(
          { err: (error as Error).message },
          'InfluxDB refused a line as invalid: kept in spool/dead-letter.log',
        );
        await appendFile(join(this.config.dataDir, 'spool', 'dead-letter.log'), `${lines[0]}\n`);
        return;
      }
      const half = Math.ceil(lines.length / 2);
      await this.write(lines.slice(0, half));
      await this.write(lines.slice(half));
    }
  }

  /** Lets held appends into the spool, oldest first, until the budget is reached again (the rest wait). */
  private freeSpace(): void {
    let released = 0;
    while (released < this.held.length && !this.spool.full) {
      const { record, done } = this.held[released++]!;
      this.spool.append(record, done);
    }
    this.held.splice(0, released);
    if (this.fullSince !== undefined && this.held.length === 0) {
      this.logger.log({ heldMs: Date.now() - this.fullSince }, 'spool below its budget: acknowledging again');
      this.fullSince = undefined;
      this.metrics.spoolFull.set(0);
    }
  }
}

/** InfluxDB refused the request as invalid (a 4xx other than 429): retrying it unchanged cannot succeed. */
function refused(error: unknown): boolean {
  return (
    error instanceof HttpError &&
    error.statusCode >= 400 &&
    error.statusCode < 500 &&
    error.statusCode !== 429
  );
}
