import { METRICS } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { bookQuarters, periodEnergy, readMeterRows, type MeterRows } from '@peakwatch/metering';
import { expectedReadings, type Site } from '@peakwatch/registry';
import { round, type MeterLine } from './report-schema';

/** A meter's rows as stored (libs/metering readMeterRows), with its site: what the evidence bundle keeps of it. */
export type SiteMeterRows = MeterRows & { siteId: string };

/**
 * The report's meter read: the rows of each meter of `sites` around [fromMs, toMs) as stored (its register readings,
 * the last before the period and the first after it, and its meter events), in the order of the sites and their devices.
 */
export async function readReportRows(
  influx: InfluxClient,
  sites: readonly Site[],
  fromMs: number,
  toMs: number,
): Promise<SiteMeterRows[]> {
  const out: SiteMeterRows[] = [];
  for (const site of sites)
    for (const rows of await readMeterRows(influx, site.devices, fromMs, toMs)) {
      // only the events between its first and last reading read can change an energy: an event stored later beyond
      // them neither changes a figure nor restates the report
      let [first, last] = [Infinity, -Infinity];
      // a down-sampled month's readings are its first and last of each register (docs/retention.md)
      for (const t of [
        ...rows.readings.map((r) => r['time'] as number),
        ...rows.downsampled.flatMap((m) => [m['time'] as number, m['to_ms'] as number]),
      ]) {
        first = Math.min(first, t);
        last = Math.max(last, t);
      }
      const events = rows.events.filter(
        (e) => (e['time'] as number) >= first && (e['time'] as number) <= last,
      );
      out.push({ ...rows, events, siteId: site.id });
    }
  return out;
}

/**
 * The meter lines of a report, with no I/O: each meter's register energy over [fromMs, toMs) per metric, with the
 * register rules of the KPIs (libs/metering: wraps, replacements, a gap booked whole at the reading that ends it and
 * marked estimated), and how many of the readings its interval promises arrived. `offsetMs` is the reporting zone's,
 * for the days.
 */
export function meterLines(
  rows: readonly SiteMeterRows[],
  fromMs: number,
  toMs: number,
  offsetMs: number,
): MeterLine[] {
  const meters: MeterLine[] = [];
  for (const meter of rows) {
    const { device } = meter;
    const energy = periodEnergy(bookQuarters(meter, fromMs, toMs), '1d', fromMs, toMs, offsetMs);
    const received = [...energy.readingsByWindow.values()].reduce((a, b) => a + b, 0);
    const batches = [...new Set([...energy.batchesByWindow.values()].flatMap((b) => [...b]))].sort();
    const expected = expectedReadings(device, fromMs, toMs);
    for (const [metric, windows] of energy.windows) {
      let quantity = 0;
      let estimated = false;
      for (const w of windows.values()) {
        quantity += w.energy;
        estimated ||= w.estimated;
      }
      meters.push({
        siteId: meter.siteId,
        deviceId: device.id,
        role: device.role,
        metric,
        unit: METRICS[metric].unit,
        quantity: round(quantity),
        estimated,
        readingsReceived: received,
        readingsExpected: expected,
        completeness: expected > 0 ? round(Math.min(1, received / expected), 4) : 1,
        // the import batches among its readings (docs/imports.md): a line traced to its source
        ...(batches.length > 0 ? { batches } : {}),
      });
    }
  }
  return meters;
}
