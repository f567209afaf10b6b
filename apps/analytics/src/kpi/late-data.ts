import { MEASUREMENTS } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';

/** The device-time span of readings that arrived late for one site. */
export interface LateSpan {
  siteId: string;
  earliestMs: number;
  latestMs: number;
  /**
   * Where its quarter hours and hours are recomputed from: the span's start, but for an import's span older than the
   * horizon, whose days, months and years are recomputed however old, and its finer windows within the horizon only
   * (docs/imports.md, "What is recomputed").
   */
  fineFromMs: number;
}

/**
 * Finds the late-data marks ingest writes (`ingest_late`: one per message whose readings were older than
 * LATE_AFTER_MS on arrival) that have not been handled yet. Every mark stamped within the
 * horizon is looked at on each call and remembered once handled, so a mark that reaches InfluxDB late itself (after
 * an outage, from the spool) is still found; after a restart the marks within the horizon are handled once more,
 * which only recomputes windows again. Spans are cut to the horizon: older windows are left as they are, but for the
 * marks of a history import (tagged with its batch, docs/imports.md), which reach back as far as its readings.
 */
export class LateDataMarks {
  /** Handled marks (site, device, arrival time) with their arrival time; forgotten past the horizon. */
  private readonly handled = new Map<string, number>();

  constructor(
    private readonly influx: InfluxClient,
    private readonly horizonMs: number,
  ) {}

  /** Spans of the marks not handled yet; pass `marks` to `markHandled` once their windows are recomputed. */
  async pending(nowMs: number): Promise<{ spans: LateSpan[]; marks: Map<string, number> }> {
    const oldest = nowMs - this.horizonMs;
    for (const [key, at] of this.handled) if (at < oldest) this.handled.delete(key);
    const series = await this.influx.query(
      `SELECT earliest_ms, latest_ms, fine_from_ms FROM ${MEASUREMENTS.ingestLate} WHERE time >= ${oldest}ms ` +
        'GROUP BY site, device, batch',
    );
    const spans: LateSpan[] = [];
    const marks = new Map<string, number>();
    for (const s of series) {
      const siteId = s.tags['site']!;
      // an import's marks (tagged with its batch) reach as far back as its readings
      const batch = s.tags['batch'] ?? '';
      for (const row of s.rows) {
        const at = row['time'] as number;
        const key = `${siteId}\u0000${s.tags['device']}\u0000${batch}\u0000${at}`;
        if (this.handled.has(key)) continue;
        marks.set(key, at);
        // an import says where its finer windows start (those it removed, for a rollback), whatever this clock says
        const fineFromMs =
          batch && typeof row['fine_from_ms'] === 'number'
            ? row['fine_from_ms']
            : Math.max(oldest, Number(row['earliest_ms']));
        const earliestMs = batch ? Number(row['earliest_ms']) : fineFromMs;
        const latestMs = Number(row['latest_ms']);
        if (latestMs >= earliestMs) spans.push({ siteId, earliestMs, latestMs, fineFromMs });
      }
    }
    return { spans, marks };
  }

  markHandled(marks: ReadonlyMap<string, number>): void {
    for (const [key, at] of marks) this.handled.set(key, at);
  }
}
