import type { InfluxClient } from '@peakwatch/influx';
import { forSite, type KpiFactors } from '../factors';
import type { KpiValue } from '../kpi-store';
import { periodEnergy, readQuarters, type DeviceEnergy } from '../meter-read';
import { FIXED_PERIOD_MS, periodWindow, type FixedPeriod } from '../periods';
import type { Registry, Site } from '@peakwatch/registry';
import { buildingKpis } from './building-kpis';
import { dataCentreKpis } from './data-centre-kpis';
import { meterKpis } from './meter-kpis';
import { siteWindow } from './site-window';

/**
 * Computes a site's KPIs for windows of [fromMs, toMs) from the raw telemetry in InfluxDB, with the domain library's
 * register rules (wraps, declared replacements, gaps), so that a KPI is traceable to readings. The arithmetic is done
 * here, not in InfluxQL (README, "Architecture").
 */
export async function computeSiteKpis({
  influx,
  registry,
  siteId,
  fromMs,
  toMs,
  period,
  utcOffsetMs,
  factors,
}: {
  influx: InfluxClient;
  registry: Registry;
  siteId: string;
  fromMs: number;
  toMs: number;
  period: FixedPeriod;
  utcOffsetMs: number;
  factors: KpiFactors;
}): Promise<KpiValue[]> {
  const site = registry.site(siteId);
  if (!site) throw new Error(`unknown site ${siteId}`);
  // Whole windows only: a window is computed from all of its readings even when the range starts inside it.
  fromMs = periodWindow(period, fromMs, utcOffsetMs).startMs;
  const quarters = await readQuarters(influx, site.devices, fromMs, toMs);
  return siteKpis({
    site,
    devices: quarters.map((q) => periodEnergy(q, period, fromMs, toMs, utcOffsetMs)),
    fromMs,
    toMs,
    period,
    utcOffsetMs,
    factors,
  });
}

/**
 * A site's KPIs for the windows of `period` in [fromMs, toMs) (fromMs a window start) from its devices' energies in
 * those windows: for each window those of its meters (meter-kpis.ts), then those of its type (data-centre-kpis.ts or
 * building-kpis.ts).
 */
export function siteKpis({
  site,
  devices,
  fromMs,
  toMs,
  period,
  utcOffsetMs,
  factors,
}: {
  site: Site;
  devices: readonly DeviceEnergy[];
  fromMs: number;
  toMs: number;
  period: FixedPeriod;
  utcOffsetMs: number;
  factors: KpiFactors;
}): KpiValue[] {
  factors = forSite(site, factors);
  const sizeMs = FIXED_PERIOD_MS[period];
  const out: KpiValue[] = [];
  for (let startMs = fromMs; startMs < toMs; startMs += sizeMs) {
    const window = siteWindow({
      site,
      devices,
      factors,
      period,
      startMs,
      endMs: startMs + sizeMs,
      utcOffsetMs,
      out,
    });
    meterKpis(window);
    if (site.type === 'data_centre') dataCentreKpis(window);
    else buildingKpis(window);
  }
  return out;
}
