import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PeakWatchError, type Language } from '@peakwatch/contracts';
import { loadConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { REPORT_FORMATS, ReportService, reportPeriod, verifyBundle } from '@peakwatch/reporting';
import { Clock, PEAKWATCH_VERSION, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { cliText } from '../cli-language';

/**
 * `peakwatch report --org <id> (--month YYYY-MM | --year YYYY) [--json]`: generates an emitter's report with the same
 * code as the scheduled job (a new version only when its content changed; submitted when an endpoint is
 * configured and the alerts service delivers the outbox), and prints where its files are (in `language`), or the
 * report itself.
 */
export async function reportCommand(
  flags: {
    org?: string;
    month?: string;
    year?: string;
    json?: boolean;
  },
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  const org = flags.org;
  if (org === undefined) throw new UsageError(t('report.noOrg'));
  if ((flags.month === undefined) === (flags.year === undefined)) throw new UsageError(t('report.onePeriod'));
  const period = flags.month ?? flags.year!;
  const config = loadConfig(process.env);
  try {
    const parsed = reportPeriod(period, config.tzReporting);
    if ((flags.month !== undefined) !== (parsed.kind === 'monthly')) throw new RangeError('');
  } catch {
    throw new UsageError(
      t(flags.month !== undefined ? 'report.badMonth' : 'report.badYear', { value: JSON.stringify(period) }),
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
    const generated = {
      kind: t(`report.kind.${report.kind}`),
      organisation: report.organisation.name,
      period,
      version: version.version,
      corrects: version.corrects,
    };
    process.stdout.write(
      [
        t(
          created ? (version.corrects ? 'report.corrects' : 'report.created') : 'report.unchanged',
          generated,
        ),
        t('report.figures', {
          completeness: (report.completeness * 100).toFixed(1),
          tce: report.energy.totalTce,
          locationT: report.emissions.totalLocationT,
        }),
        ...version.changes.map((change) => t('report.changed', { change })),
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
 * each figure that differs (exit 1), in `language`.
 */
export async function reportVerifyCommand(path: string, language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  let archive: Buffer;
  try {
    archive = await readFile(path);
  } catch (error) {
    throw new UsageError(
      t('verify.unreadable', { path, code: (error as NodeJS.ErrnoException).code ?? 'error' }),
    );
  }
  const result = await verifyBundle(archive, PEAKWATCH_VERSION);
  const { info, report } = result;
  const lines = [
    info?.organisation !== undefined
      ? t('verify.bundle', {
          organisation: info.organisation,
          period: info.period,
          version: info.version,
          layout: info.layout,
          madeBy: info.peakwatchVersion,
          checkedBy: PEAKWATCH_VERSION,
        })
      : t('verify.notBundle', { path }),
    ...(report
      ? [
          t('verify.contentHash', { hash: report.contentHash }),
          t('verify.evidenceSha256', { hash: report.evidenceSha256 }),
        ]
      : []),
    ...result.problems.map((problem) => t('verify.file', { problem })),
    ...result.differences.map((d) =>
      t('verify.figure', {
        field: d.field,
        stated: JSON.stringify(d.stated),
        recomputed: JSON.stringify(d.recomputed),
      }),
    ),
    result.match
      ? t('verify.match')
      : result.checked
        ? t('verify.differs', { files: result.problems.length, figures: result.differences.length })
        : t('verify.cannotCheck'),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (!result.match)
    throw new EvidenceMismatchError(t(result.checked ? 'verify.mismatch' : 'verify.unchecked'));
}
