import { Injectable } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { MEASUREMENTS } from '@peakwatch/contracts';
import { KPI_AGGREGATION, MIN_ELAPSED_SHARE, judgedSpan, pueTariffCny } from '@peakwatch/domain';
import { InfluxClient } from '@peakwatch/influx';
import {
  FIXED_PERIOD_MS,
  periodWindow,
  readKpis,
  readLatestKpis,
  utcOffsetMs,
  type FixedPeriod,
  type StoredKpi,
} from '@peakwatch/metering';
import type { AlertRule } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';

/** What a rule sees of one entity at one evaluation. */
export interface Reading {
  entity: string;
  type: 'site' | 'device';
  name: string;
  site: Site;
  value: number | null;
  completeness?: number;
  window?: { period: string; startMs: number; endMs: number };
  /** Where the judged part of a window that began before monitoring of the site began starts (its first reading). */
  judgedFromMs?: number;
  expectedCostCny?: number;
}

/** How far back a silent device is looked for (ms): beyond it, silence counts from here. */
const SILENCE_LOOKBACK_MS = 2 * 86_400_000;
const YEAR_MS = 365 * 86_400_000;
/** How long a site's first reading (the start of its monitoring) is remembered before it is read again (ms). */
const MONITORED_FROM_TTL_MS = 3_600_000;

/**
 * The alerts' reader (docs/architecture.md): what each entity shows a rule at an evaluation. A device's silence from
 * the telemetry; a site's KPI from the `kpi` series (libs/metering's store), with the completeness of the part of its
 * window judged: what has elapsed of it since monitoring of the site began (its first reading; libs/domain
 * judgedSpan), so neither a new deployment nor a year under way lacks readings it could never have had. A gated rule
 * does not judge a window begun before monitoring until a tenth of it has been monitored (docs/domain.md,
 * "Completeness").
 */
@Injectable()
export class AlertReader {
  /** Each site's first reading, and when it was read. */
  private readonly monitoredFrom = new Map<string, { ms: number; readAtMs: number }>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
  ) {}

  /** The value each entity shows the rule at `nowMs`. */
  async read(rule: AlertRule, sites: Site[], nowMs: number): Promise<Reading[]> {
    const signal = rule.signal;
    if ('silence' in signal) {
      // every device's latest reading in one query, whatever the number of sites (GROUP BY device)
      const series = await this.influx.query(
        `SELECT * FROM ${MEASUREMENTS.telemetry} WHERE time > ${nowMs - SILENCE_LOOKBACK_MS}ms AND time <= ${nowMs}ms GROUP BY device ORDER BY time DESC LIMIT 1`,
      );
      const last = new Map(series.map((s) => [s.tags['device']!, s.rows[0]?.['time'] as number]));
      return sites.flatMap((site) =>
        site.devices.map((device): Reading => {
          const lastMs = last.get(device.id) ?? nowMs - SILENCE_LOOKBACK_MS;
          return {
            entity: device.id,
            type: 'device',
            name: device.name ?? device.id,
            site,
            value: Math.floor((nowMs - lastMs) / 60_000),
          };
        }),
      );
    }
    const watched = 'kpi' in signal ? signal : signal.completeness;
    // 15m, 1h and 1d: the latest window that has ended (a partial day is neither complete nor comparable); months,
    // years and rolling 12 months: the latest that has started (the current one, to date)
    const before = nowMs - (FIXED_PERIOD_MS[watched.period as FixedPeriod] ?? 0);
    const byEntity = await readLatestKpis(this.influx, {
      scope: 'site',
      kpi: watched.kpi,
      period: watched.period,
      fromMs: before - 2 * YEAR_MS + 1,
      toMs: before + 1,
    });
    const monitoredFrom = await this.monitoringStarts(
      sites.filter((site) => byEntity.has(site.id)),
      nowMs,
    );
    // the other KPI of the same window, for a difference (a share behind its target): one query per window start
    // among the entities' latest (usually one), not one per entity
    const minus = 'kpi' in signal ? signal.minus : undefined;
    const others = new Map<string, StoredKpi>();
    if (minus)
      for (const startMs of new Set([...byEntity.values()].map((k) => k.windowStartMs)))
        for (const other of await readKpis(this.influx, {
          scope: 'site',
          kpi: minus,
          period: watched.period,
          fromMs: startMs,
          toMs: startMs + 1,
        }))
          if (other.category === undefined && byEntity.get(other.entity)?.windowStartMs === startMs)
            others.set(other.entity, other);
    return sites.map((site) => {
      const row = byEntity.get(site.id);
      const reading: Reading = { entity: site.id, type: 'site', name: site.name, site, value: null };
      if (!row) return reading;
      const startMs = row.windowStartMs;
      const endMs = periodWindow(
        watched.period,
        startMs,
        utcOffsetMs(this.config.tzReporting, startMs),
      ).endMs;
      reading.window = { period: watched.period, startMs, endMs };
      const span = judgedSpan({
        windowStartMs: startMs,
        windowEndMs: endMs,
        nowMs,
        monitoredFromMs: monitoredFrom.get(site.id) ?? startMs,
        completeness: row.completeness,
      });
      // not judged: nothing of the window monitored yet, or too little of a window begun before monitoring for a
      // rule that needs its readings (neither the rule nor its data-quality alert can say anything true)
      if (!span || (span.fromMs > startMs && rule.minCompleteness > 0 && span.share < MIN_ELAPSED_SHARE))
        return reading;
      const completeness = span.completeness;
      reading.completeness = completeness;
      if (span.fromMs > startMs) reading.judgedFromMs = span.fromMs;
      if ('completeness' in signal) return { ...reading, value: completeness };
      // a renewable share with nothing renewable metered or declared is no share of 0 (docs/domain.md, "Green power")
      let value = row.undeclared === true ? null : row.value;
      if (minus) {
        const other = others.get(site.id)?.value;
        value = value !== null && typeof other === 'number' ? value - other : null;
      }
      if ('kpi' in signal && signal.forecast && value !== null) {
        // year to date (since monitoring began, when later), projected: sums annualised, ratios (PUE, shares) as
        // they stand
        const elapsed = Math.max(86_400_000, nowMs - span.fromMs);
        const scale = YEAR_MS / elapsed;
        if (KPI_AGGREGATION[signal.kpi] === 'sum') value *= scale;
        if (rule.tariffRates && signal.kpi === 'pue')
          reading.expectedCostCny = pueTariffCny({
            facilityKwh: row.numerator * scale,
            itKwh: row.denominator * scale,
            limit: rule.thresholdValue,
            withinCnyPerKwh: rule.tariffRates.within,
            beyondCnyPerKwh: rule.tariffRates.beyond,
          });
      }
      return { ...reading, value };
    });
  }

  /**
   * When monitoring of each site began: its first stored reading (remembered for MONITORED_FROM_TTL_MS, as an import
   * of history may move it earlier). Sites without a reading are left out.
   */
  private async monitoringStarts(sites: readonly Site[], nowMs: number): Promise<Map<string, number>> {
    const stale = sites.filter((site) => {
      const known = this.monitoredFrom.get(site.id);
      return !known || nowMs - known.readAtMs > MONITORED_FROM_TTL_MS;
    });
    if (stale.length > 0) {
      // each site's first reading in one query (GROUP BY site), not one query per site
      const firsts = await this.influx.query(`SELECT * FROM ${MEASUREMENTS.telemetry} GROUP BY site LIMIT 1`);
      for (const series of firsts) {
        const ms = series.rows[0]?.['time'];
        if (typeof ms === 'number') this.monitoredFrom.set(series.tags['site']!, { ms, readAtMs: nowMs });
      }
    }
    const out = new Map<string, number>();
    for (const site of sites) {
      const known = this.monitoredFrom.get(site.id);
      if (known) out.set(site.id, known.ms);
    }
    return out;
  }
}
