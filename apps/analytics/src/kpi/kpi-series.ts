import type { InfluxClient } from '@peakwatch/influx';
import {
  KpiWriter,
  kpiFactorsFor,
  kpiLine,
  periodEnergy,
  periodWindow,
  readNeighbours,
  readQuarters,
  siteKpis,
  windowsOf,
  type DeviceEnergy,
  type FixedPeriod,
  type KpiValue,
} from '@peakwatch/metering';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import { AreaRollup } from './rollups';

/**
 * From how many sites a run reads the readings around its range for every device at once (readNeighbours): below it,
 * per site, as those queries then cover every device of the database for a few sites' sake.
 */
const NEIGHBOURS_AT_ONCE_FROM = 20;

/** Sites whose registers one query reads (their devices together): a city's run in a tenth of the queries. */
const SITES_PER_READ = 10;

/** The range of windows to compute, per fixed period. */
export type FixedRanges = Partial<Record<FixedPeriod, { fromMs: number; toMs: number }>>;

/**
 * Computes the KPIs of every site (or of `siteIds`) for the windows of each period's range and writes them to
 * InfluxDB; for every site, also their district and city roll-ups, combined from the values just computed. The work
 * goes month by month (in the reporting zone), and site by site within a month: each site's readings are read once
 * for all periods, and a year of many sites is never held at once. Idempotent: a rerun overwrites the same points.
 * With `rollups` (a replica's share of the sites), the site values are added there per period instead, for the run to
 * combine with the other shares' (AreaRollup.partial, merge). Returns the number of KPI values written.
 */
export async function writeKpiSeries({
  influx,
  registry,
  policy,
  ranges,
  utcOffsetMs,
  siteIds,
  rollups,
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  ranges: FixedRanges;
  utcOffsetMs: number;
  siteIds?: readonly string[];
  rollups?: Map<FixedPeriod, AreaRollup>;
}): Promise<number> {
  // Whole windows only: a window is computed from all of its readings even when the range starts inside it.
  const periods = (Object.keys(ranges) as FixedPeriod[]).map((period) => ({
    period,
    fromMs: periodWindow(period, ranges[period]!.fromMs, utcOffsetMs).startMs,
    toMs: ranges[period]!.toMs,
  }));
  if (periods.length === 0) return 0;
  const sites = registry.sites.filter((s) => !siteIds || siteIds.includes(s.id));
  const writer = new KpiWriter(influx);
  const fromMs = Math.min(...periods.map((p) => p.fromMs));
  const toMs = Math.max(...periods.map((p) => p.toMs));
  for (const month of windowsOf('1mo', fromMs, toMs, utcOffsetMs)) {
    const lastDay = new Date(month.endMs - 1 + utcOffsetMs).toISOString().slice(0, 10);
    const factors = kpiFactorsFor(policy, Number(lastDay.slice(0, 4)), lastDay);
    const inMonth = periods
      .map((p) => ({ ...p, fromMs: Math.max(p.fromMs, month.startMs), toMs: Math.min(p.toMs, month.endMs) }))
      .filter((p) => p.fromMs < p.toMs);
    const readFrom = Math.min(...inMonth.map((p) => p.fromMs));
    const readTo = Math.max(...inMonth.map((p) => p.toMs));
    const areas = rollups
      ? inMonth.map(
          (p) =>
            rollups.get(p.period) ?? rollups.set(p.period, new AreaRollup(registry, p.period)).get(p.period)!,
        )
      : siteIds
        ? undefined
        : inMonth.map((p) => new AreaRollup(registry, p.period));
    // many sites: the readings around the range of their devices in three queries, not three per site
    const neighbours =
      sites.length >= NEIGHBOURS_AT_ONCE_FROM
        ? await readNeighbours(influx, readFrom, readTo, siteIds && sites.map((s) => s.id))
        : undefined;
    // the next sites' readings are read while these ones' KPIs are computed and written, SITES_PER_READ at a time
    const groups = Array.from({ length: Math.ceil(sites.length / SITES_PER_READ) }, (_, g) =>
      sites.slice(g * SITES_PER_READ, (g + 1) * SITES_PER_READ),
    );
    const read = (g: number) => {
      const devices = groups[g]!.flatMap((site) => site.devices);
      const reading = readQuarters(influx, devices, readFrom, readTo, neighbours);
      reading.catch(() => undefined); // awaited below; not an unhandled rejection if this loop stops first
      return reading;
    };
    let next = groups.length > 0 ? read(0) : undefined;
    for (const [g, group] of groups.entries()) {
      const answer = await next!;
      next = g + 1 < groups.length ? read(g + 1) : undefined;
      let first = 0; // readQuarters answers in the order of the devices asked for: each site's are its slice
      for (const site of group) {
        const quarters = answer.slice(first, (first += site.devices.length));
        for (const [i, p] of inMonth.entries()) {
          const devices = quarters.map((q) => periodEnergy(q, p.period, p.fromMs, p.toMs, utcOffsetMs));
          const kpis = withBatches(siteKpis({ site, devices, ...p, utcOffsetMs, factors }), devices);
          await writer.add(kpis.map((k) => kpiLine(k, { scope: 'site', entity: site.id, period: p.period })));
          for (const k of kpis) areas?.[i]!.add(site.id, k);
        }
      }
    }
    if (!rollups) for (const area of areas ?? []) await writer.add(area.lines());
  }
  await writer.close();
  return writer.written;
}

/**
 * Each KPI of a window with the import batches among its site's readings in that window (docs/imports.md): which
 * batches a value came from.
 */
function withBatches(kpis: KpiValue[], devices: readonly DeviceEnergy[]): KpiValue[] {
  if (devices.every((d) => d.batchesByWindow.size === 0)) return kpis;
  return kpis.map((k) => {
    const batches = new Set(devices.flatMap((d) => [...(d.batchesByWindow.get(k.windowStartMs) ?? [])]));
    return batches.size > 0 ? { ...k, batches: [...batches].sort() } : k;
  });
}
