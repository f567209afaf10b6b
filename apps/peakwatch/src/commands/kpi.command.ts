import { PeakWatchError } from '@peakwatch/contracts';
import { join } from 'node:path';
import { computeSiteKpis } from '@peakwatch/analytics';
import { instantMs, kpiFactorsFor, utcOffsetMs, type KpiValue, type FixedPeriod } from '@peakwatch/metering';
import { checkSiteTariffs, loadPolicyData } from '@peakwatch/policy';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { loadRegistry } from '@peakwatch/registry';
import { UsageError } from '@peakwatch/runtime';

const PERIODS: readonly FixedPeriod[] = ['15m', '1h', '1d'];

export class UnknownSiteError extends PeakWatchError {
  readonly code = 'unknown_site';
}

/** A `YYYY-MM-DD` date (midnight in the reporting zone) or an RFC 3339 time; throws a UsageError naming the flag. */
export function parseDate(flag: string, raw: string, timeZone: string): number {
  const ms = instantMs(raw, timeZone);
  if (ms === undefined)
    throw new UsageError(
      `${flag} ${JSON.stringify(raw)}: expected a date YYYY-MM-DD or an RFC 3339 time with its offset`,
    );
  return ms;
}

/**
 * `peakwatch kpi --site <id> --from <date> --to <date> [--period 1d] [--json]`: a site's KPIs for [from, to),
 * computed by the same code as the analytics service, from the readings in InfluxDB.
 */
export async function kpiCommand(flags: {
  site: string;
  from: string;
  to: string;
  period: string;
  json?: boolean;
}): Promise<void> {
  const config = loadConfig(process.env);
  if (!(PERIODS as readonly string[]).includes(flags.period)) {
    throw new UsageError(`--period ${JSON.stringify(flags.period)}: expected one of ${PERIODS.join(', ')}`);
  }
  const fromMs = parseDate('--from', flags.from, config.tzReporting);
  const toMs = parseDate('--to', flags.to, config.tzReporting);
  if (toMs <= fromMs) throw new UsageError(`--to ${flags.to} is not after --from ${flags.from}`);
  const registry = loadRegistry(join(config.seedsDir, 'sites'));
  if (!registry.site(flags.site)) {
    throw new UnknownSiteError(
      `unknown site ${JSON.stringify(flags.site)}; the registry (${join(config.seedsDir, 'sites')}) has ${registry.sites.map((s) => s.id).join(', ')}`,
    );
  }
  const offset = utcOffsetMs(config.tzReporting, fromMs);
  // the factors published by the range's last day (a later publication does not change a past period)
  const lastDay = new Date(toMs - 1 + offset).toISOString().slice(0, 10);
  const policy = loadPolicyData(config.seedsDir);
  checkSiteTariffs(registry, policy.tariffs);
  const factors = kpiFactorsFor(policy, new Date(fromMs + offset).getUTCFullYear(), lastDay);
  const kpis = await computeSiteKpis({
    influx: new InfluxClient(config.influx),
    registry,
    siteId: flags.site,
    fromMs,
    toMs,
    period: flags.period as FixedPeriod,
    utcOffsetMs: offset,
    factors,
  });
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(kpis.map((k) => ({ ...k, windowStart: new Date(k.windowStartMs).toISOString() })))}\n`
      : table(kpis),
  );
}

function table(kpis: KpiValue[]): string {
  const rows = kpis.map((k) => [
    new Date(k.windowStartMs).toISOString(),
    k.category ? `${k.kpi}[${k.category}]` : k.kpi,
    k.value === null ? '—' : k.value.toFixed(4),
    k.completeness.toFixed(3),
    k.estimated ? 'estimated' : '',
  ]);
  const header = ['window start', 'kpi', 'value', 'completeness', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return (
    [header, ...rows]
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
