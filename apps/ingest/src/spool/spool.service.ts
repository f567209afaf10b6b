import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { HealthRegistry } from '@peakwatch/runtime';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { Spool } from './spool';

/** Lines sent to InfluxDB in one write (FIELD-NOTES: influxd takes ≈190k points/s in 10,000-line batches). */
const WRITE_BATCH_LINES = 10_000;
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;
/** Backoff after a failed write: jittered exponential from 100 ms to 10 s, or InfluxDB's Retry-After. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 10_000;
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
  private spaceWaiters: (() => void)[] = [];
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
    this.updateGauges();
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

  /** Appends a record; resolves once it is durable. Waits first while the spool is at its disk budget. */
  async append(record: string): Promise<void> {
    while (this.spool.full) {
      if (this.fullSince === undefined) {
        this.fullSince = Date.now();
        this.metrics.spoolFull.set(1);
        this.logger.warn(
          { bytes: this.spool.bytes, budget: this.config.ingest.spoolMaxBytes },
          'spool full: withholding acknowledgements until InfluxDB drains it',
        );
      }
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    await this.spool.append(record);
  }

  private async drainLoop(): Promise<void> {
    let attempt = 0;
    while (this.running || this.spool.depth > 0) {
      const batch = this.spool.read({ maxRecords: WRITE_BATCH_LINES, maxBytes: WRITE_BATCH_BYTES });
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
        this.spool.commit(batch.next, batch.records.length);
        this.metrics.readingsStored.inc(batch.records.reduce((n, r) => n + countLines(r), 0));
        if (this.influxDown)
          this.logger.log({ backlog: this.spool.depth }, 'InfluxDB is back: draining the spool');
        this.influxDown = false;
        attempt = 0;
        this.freeSpace();
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
      this.updateGauges();
    }
  }

  /**
   * Writes records to InfluxDB. A 4xx answer (other than 429) means some line is invalid: then each record is
   * written alone and the ones InfluxDB still refuses go to `spool/dead-letter.log`, so that one bad line never
   * blocks the spool. Server errors and network failures throw (retried later, nothing lost).
   */
  private async write(records: string[]): Promise<void> {
    try {
      this.writeApi.writeRecords(records);
      await this.writeApi.flush();
    } catch (error) {
      if (
        !(error instanceof HttpError) ||
        error.statusCode >= 500 ||
        error.statusCode === 429 ||
        records.length === 0
      )
        throw error;
      for (const record of records) {
        try {
          this.writeApi.writeRecord(record);
          await this.writeApi.flush();
        } catch (single) {
          if (!(single instanceof HttpError) || single.statusCode >= 500 || single.statusCode === 429)
            throw single;
          this.metrics.linesDeadLettered.inc(countLines(record));
          this.logger.error(
            { err: single.message },
            'InfluxDB refused a record as invalid: kept in spool/dead-letter.log',
          );
          await appendFile(join(this.config.dataDir, 'spool', 'dead-letter.log'), `${record}\n`);
        }
      }
    }
  }

  private freeSpace(): void {
    if (this.spool.full) return;
    if (this.fullSince !== undefined) {
      this.logger.log({ heldMs: Date.now() - this.fullSince }, 'spool below its budget: acknowledging again');
      this.fullSince = undefined;
      this.metrics.spoolFull.set(0);
    }
    for (const resolve of this.spaceWaiters.splice(0)) resolve();
  }

  private updateGauges(): void {
    this.metrics.spoolDepth.set(this.spool.depth);
    this.metrics.spoolBytes.set(this.spool.bytes);
  }
}

function countLines(record: string): number {
  let n = 1;
  for (let i = record.indexOf('\n'); i !== -1; i = record.indexOf('\n', i + 1)) n++;
  return n;
}
