import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PeakWatchError } from '@peakwatch/contracts';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { REPORT_FORMATS, ReportService, reportPeriod, verifyBundle } from '@peakwatch/reporting';
import { Clock, PEAKWATCH_VERSION, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';

/**
 * `peakwatch report --org <id> (--month YYYY-MM | --year YYYY) [--json]`: generates an emitter's report with the same
 * code as the scheduled job (a new version only when its content changed; submitted when an endpoint is
 * configured and the alerts service delivers the outbox), and prints where its files are, or the report itself.
 */
export async function reportCommand(flags: {
  org?: string;
  month?: string;
  year?: string;
  json?: boolean;
}): Promise<void> {
  const org = flags.org;
  if (org === undefined) throw new UsageError('give --org <id> (emitter.id in the registry)');
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
    const { version, created, report } = await service.generate(org, period);
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
        ...REPORT_FORMATS.map((f) => `  ${service.path(org, period, version.version, f)}`),
        '',
      ].join('\n'),
    );
  } finally {
    await store.close();
  }
}

/** A bundle that does not match its report, or that this version cannot check (exit 1; the lines are on stdout). */
export class EvidenceMismatchError extends PeakWatchError {
  readonly code = 'evidence_mismatch';
}

/**
 * `peakwatch report verify <bundle>`: recomputes every figure of a report version from its evidence bundle alone
 * (docs/reports.md, "Evidence bundle") and prints `match`, or each file that is not what the bundle's hashes say and
 * each figure that differs (exit 1).
 */
export async function reportVerifyCommand(path: string): Promise<void> {
  let archive: Buffer;
  try {
    archive = await readFile(path);
  } catch (error) {
    throw new UsageError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const result = await verifyBundle(archive, PEAKWATCH_VERSION);
  const { info, report } = result;
  const lines = [
    info?.organisation !== undefined
      ? `evidence bundle of ${info.organisation} ${info.period} version ${info.version}: layout ${info.layout}, ` +
        `made by PeakWatch ${info.peakwatchVersion}, checked by PeakWatch ${PEAKWATCH_VERSION}`
      : `${path}: not a PeakWatch evidence bundle`,
    ...(report
      ? [`report content hash ${report.contentHash}`, `evidence sha256 ${report.evidenceSha256}`]
      : []),
    ...result.problems.map((p) => `file   ${p}`),
    ...result.differences.map(
      (d) =>
        `figure ${d.field}: the report states ${JSON.stringify(d.stated)}, the evidence gives ${JSON.stringify(d.recomputed)}`,
    ),
    result.match
      ? 'match: every file is the one the evidence hash covers, and every figure recomputes to what the report states'
      : result.checked
        ? `DIFFERS: ${result.problems.length} file problem(s), ${result.differences.length} figure(s)`
        : 'CANNOT CHECK',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (!result.match)
    throw new EvidenceMismatchError(
      result.checked ? 'the bundle does not match its report' : 'this version cannot check the bundle',
    );
}
