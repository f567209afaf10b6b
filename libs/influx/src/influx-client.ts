import { PeakWatchError } from '@peakwatch/contracts';
import { InfluxDB, type WriteApi, type WriteOptions } from '@influxdata/influxdb-client';

export interface InfluxConnection {
  /** Base URL, e.g. http://127.0.0.1:8086 */
  url: string;
  database: string;
  token?: string;
}

/** One series of an InfluxQL answer: rows as objects keyed by column, `time` in epoch milliseconds. */
export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  rows: Record<string, unknown>[];
}

export class InfluxQueryError extends PeakWatchError {
  readonly code = 'influx_query_failed';
  constructor(
    readonly query: string,
    message: string,
    /** True for failures worth retrying (server unavailable, 5xx). */
    readonly retryable: boolean,
  ) {
    super(`InfluxQL failed (${message}): ${query}`);
    this.name = 'InfluxQueryError';
  }
}

interface V1Response {
  error?: string;
  results?: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
}

/** Timeout of one /query or /ping request (ms). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The one class that talks to InfluxDB, through the v1-compatible HTTP API that 1.x, 2.x (DBRP) and 3.x all serve
 * (README, "Architecture"): line protocol to /write through the official client's WriteApi, InfluxQL to /query.
 */
export class InfluxClient {
  private readonly influx: InfluxDB;

  constructor(readonly connection: InfluxConnection) {
    this.influx = new InfluxDB({
      url: connection.url,
      ...(connection.token ? { token: connection.token } : {}),
    });
  }

  /** True when the server answers GET /ping with 2xx. */
  async ping(): Promise<boolean> {
    try {
      const response = await fetch(`${this.connection.url}/ping`, { signal: AbortSignal.timeout(2_000) });
      return response.ok;
    } catch {
      return false;
    }
  }

  /**
   * Creates the database when missing (1.x). InfluxDB 2.x/3.x refuse CREATE DATABASE over v1; there the bucket
   * is provisioned beforehand and mapped through DBRP, so that refusal is not an error.
   */
  async ensureDatabase(): Promise<void> {
    try {
      await this.execute(`CREATE DATABASE ${quoteIdentifier(this.connection.database)}`, { method: 'POST' });
    } catch (error) {
      if (
        error instanceof InfluxQueryError &&
        !error.retryable &&
        /not (supported|implemented)/i.test(error.message)
      ) {
        return;
      }
      throw error;
    }
  }

  /** Runs one InfluxQL statement against the configured database. Times are epoch milliseconds. */
  async query(influxql: string): Promise<InfluxSeries[]> {
    return this.execute(influxql, { method: 'GET' });
  }

  /**
   * Runs a statement that changes the database (`DELETE`), posted as the v1 API requires. InfluxDB 1.x deletes by tag
   * and time; docs/imports.md says what an import's rollback needs of other generations.
   */
  async command(influxql: string): Promise<void> {
    await this.execute(influxql, { method: 'POST' });
  }

  /**
   * A WriteApi whose path is the v1 `/write` endpoint at millisecond precision, without gzip (it costs about 20% of
   * the throughput on loopback and a local network, docs/measurements.md). Callers set their own batching options: the
   * client's defaults (60 s flush) do not fit ingest.
   */
  createWriteApi(writeOptions: Partial<WriteOptions> = {}): WriteApi {
    const writeApi = this.influx.getWriteApi('', this.connection.database, 'ms', {
      gzipThreshold: Number.MAX_SAFE_INTEGER,
      ...writeOptions,
    });
    // WriteApiImpl posts to its public `path`; the v1 endpoint is served by every InfluxDB generation.
    (writeApi as WriteApi & { path: string }).path =
      `/write?db=${encodeURIComponent(this.connection.database)}&precision=ms`;
    return writeApi;
  }

  private async execute(influxql: string, { method }: { method: 'GET' | 'POST' }): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ db: this.connection.database, q: influxql, epoch: 'ms' });
    // fetch asks for gzip by default: compressing and decompressing answers costs both sides more CPU than the
    // bytes cost on loopback and a local network
    const headers: Record<string, string> = {
      'accept-encoding': 'identity',
      ...(this.connection.token ? { authorization: `Token ${this.connection.token}` } : {}),
    };
    let response: Response;
    try {
      response =
        method === 'GET'
          ? await fetch(`${this.connection.url}/query?${params.toString()}`, {
              headers,
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            })
          : await fetch(`${this.connection.url}/query`, {
              method: 'POST',
              headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
              body: params,
              signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            });
    } catch (error) {
      throw new InfluxQueryError(influxql, `unreachable: ${String(error)}`, true);
    }
    const text = await response.text();
    let body: V1Response;
    try {
      body = JSON.parse(text) as V1Response;
    } catch {
      throw new InfluxQueryError(
        influxql,
        `HTTP ${response.status}: ${text.slice(0, 200)}`,
        response.status >= 500,
      );
    }
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!response.ok || error) {
      throw new InfluxQueryError(
        influxql,
        `HTTP ${response.status}: ${error ?? text.slice(0, 200)}`,
        response.status >= 500,
      );
    }
    return (body.results ?? []).flatMap((result) =>
      (result.series ?? []).map((series) => ({
        name: series.name,
        tags: series.tags ?? {},
        rows: series.values.map((values) => {
          const row: Record<string, unknown> = {};
          for (let i = 0; i < series.columns.length; i++) row[series.columns[i]!] = values[i];
          return row;
        }),
      })),
    );
  }
}

/** Double-quotes an InfluxQL identifier (database, measurement, tag key). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Single-quotes an InfluxQL string literal (tag values in WHERE). */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
