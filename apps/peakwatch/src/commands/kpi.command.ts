import { PeakWatchError, type Language } from '@peakwatch/contracts';
import { join } from 'node:path';
import { computeSiteKpis } from '@peakwatch/analytics';
import { instantMs, kpiFactorsFor, utcOffsetMs, type KpiValue, type FixedPeriod } from '@peakwatch/metering';
import { checkSiteTariffs, loadPolicyData } from '@peakwatch/policy';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { loadRegistry } from '@peakwatch/registry';
import { UsageError } from '@peakwatch/runtime';
import { cliText, padColumns, displayWidth } from '../cli-language';

const PERIODS: readonly FixedPeriod[] = ['15m', '1h', '1d'];

export class UnknownSiteError extends PeakWatchError {
  readonly code = 'unknown_site';
}

/** A `YYYY-MM-DD` date (midnight in the reporting zone) or an RFC 3339 time; throws a UsageError naming the flag. */
export function parseDate(flag: string, raw: string, timeZone: string, language: Language = 'en'): number {
  const ms = instantMs(raw, timeZone);
  if (ms === undefined)
    throw new UsageError(cliText(language)('kpi.badDate', { flag, value: JSON.stringify(raw) }));
  return ms;
}

/**
 * `peakwatch kpi --site <id> --from <date> --to <date> [--period 1d] [--json]`: a site's KPIs for [from, to),
 * computed by the same code as the analytics service, from the readings in InfluxDB; the table's heads in `language`.
 */
export async function kpiCommand(
  flags: {
    site: string;
    from: string;
    to: string;
    period: string;
    json?: boolean;
  },
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  const config = loadConfig(process.env);
  if (!(PERIODS as readonly string[]).includes(flags.period)) {
    throw new UsageError(
      t('kpi.badPeriod', { value: JSON.stringify(flags.period), periods: PERIODS.join(t('list.names')) }),
    );
  }
  const fromMs = parseDate('--from', flags.from, config.tzReporting, language);
  const toMs = parseDate('--to', flags.to, config.tzReporting, language);
  if (toMs <= fromMs) throw new UsageError(t('kpi.notAfter', { to: flags.to, from: flags.from }));
  const registry = loadRegistry(join(config.seedsDir, 'sites'));
  if (!registry.site(flags.site)) {
    throw new UnknownSiteError(
      t('kpi.unknownSite', {
        site: JSON.stringify(flags.site),
        dir: join(config.seedsDir, 'sites'),
        sites: registry.sites.map((s) => s.id).join(t('list.names')),
      }),
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
      : table(kpis, t),
  );
}

function table(kpis: KpiValue[], t: ReturnType<typeof cliText>): string {
  const rows = kpis.map((k) => [
    new Date(k.windowStartMs).toISOString(),
    k.category ? `${k.kpi}[${k.category}]` : k.kpi,
    k.value === null ? '—' : k.value.toFixed(4),
    k.completeness.toFixed(3),
    k.estimated ? t('kpi.estimated') : '',
  ]);
  const header = [
    t('kpi.header.windowStart'),
    t('kpi.header.kpi'),
    t('kpi.header.value'),
    t('kpi.header.completeness'),
    '',
  ];
  // in terminal columns: a Chinese heading takes two a character
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
  return (
    [header, ...rows]
      .map((r) =>
        r
          .map((c, i) => padColumns(c, widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
