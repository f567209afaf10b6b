import { join } from 'node:path';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { REPORT_FORMATS, ReportService, reportPeriod } from '@peakwatch/reporting';
import { Clock, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';

/**
 * `peakwatch report --org <id> (--month YYYY-MM | --year YYYY) [--json]`: generates an emitter's report with the same
 * code as the scheduled job (a new version only when its content changed; submitted when an endpoint is
 * configured and the alerts service delivers the outbox), and prints where its files are, or the report itself.
 */
export async function reportCommand(flags: {
  org: string;
  month?: string;
  year?: string;
  json?: boolean;
}): Promise<void> {
  if ((flags.month === undefined) === (flags.year === undefined))
    throw new UsageError('give one of --month YYYY-MM or --year YYYY');
  const period = flags.month ?? flags.year!;
  const config = loadConfig(process.env);
  try {
    const parsed = reportPeriod(period, config.tzReporting);
    if ((flags.month !== undefined) !== (parsed.kind === 'monthly')) throw new RangeError('');
  } catch {
    throw new UsageError(
      flags.month !== undefined
        ? `--month ${JSON.stringify(period)}: expected YYYY-MM`
        : `--year ${JSON.stringify(period)}: expected YYYY`,
    );
  }
  const store = await StateStore.open(config.stateStore);
  try {
    const service = new ReportService(
      config,
      new InfluxClient(config.influx),
      loadRegistry(join(config.seedsDir, 'sites')),
      loadPolicyData(config.seedsDir),
      store,
      Clock.system(),
    );
    const { version, created, report } = await service.generate(flags.org, period);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    process.stdout.write(
      [
        `${report.kind} report of ${report.organisation.name} for ${period}: version ${version.version}` +
          (created
            ? version.corrects
              ? ` (corrects version ${version.corrects})`
              : ' (new)'
            : ' (unchanged)'),
        `  completeness ${(report.completeness * 100).toFixed(1)}%, energy ${report.energy.totalTce} tce, CO2 ${report.emissions.totalLocationT} t (location-based)`,
        ...version.changes.map((c) => `  changed: ${c}`),
        ...REPORT_FORMATS.map((f) => `  ${service.path(flags.org, period, version.version, f)}`),
        '',
      ].join('\n'),
    );
  } finally {
    await store.close();
  }
}
