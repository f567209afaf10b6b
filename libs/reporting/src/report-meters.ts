import { METRICS } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { periodEnergy, readQuarters } from '@peakwatch/metering';
import { expectedReadings, type Site } from '@peakwatch/registry';
import { round, type MeterLine } from './report-schema';

/**
 * The report's meter read: each meter's register energy over [fromMs, toMs), per metric, with the register rules of
 * the KPIs (libs/metering: wraps, replacements, a gap booked whole at the reading that ends it and marked estimated),
 * and how many of the readings its interval promises arrived. `offsetMs` is the reporting zone's, for the days.
 */
export async function readMeterLines(
  influx: InfluxClient,
  sites: readonly Site[],
  fromMs: number,
  toMs: number,
  offsetMs: number,
): Promise<MeterLine[]> {
  const meters: MeterLine[] = [];
  for (const site of sites) {
    // a site's meters in one read (registers and meter events), booked into the period's days
    for (const quarters of await readQuarters(influx, site.devices, fromMs, toMs)) {
      const { device } = quarters;
      const energy = periodEnergy(quarters, '1d', fromMs, toMs, offsetMs);
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
          siteId: site.id,
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
  }
  return meters;
}
