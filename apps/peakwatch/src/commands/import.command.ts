import { join } from 'node:path';
import { loadConfig } from '@peakwatch/config';
import { HistoryImports, rejectionsCsv, renderPlan } from '@peakwatch/history';
import { InfluxClient } from '@peakwatch/influx';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { ReportService } from '@peakwatch/reporting';
import { Clock, Progress, UsageError } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import type { Language } from '@peakwatch/contracts';
import { cliText } from '../cli-language';

/** The command line acts as the operator (docs/security.md, "Audit"). */
const CLI_ACTOR = { actor: 'cli', role: 'operator' };

async function withImports<T>(work: (imports: HistoryImports) => Promise<T>): Promise<T> {
  const config = loadConfig(process.env);
  const store = await StateStore.open(config.stateStore);
  try {
    const influx = new InfluxClient(config.influx);
    const registry = loadRegistry(join(config.seedsDir, 'sites'));
    const clock = Clock.system();
    const policy = loadPolicyData(config.seedsDir);
    const reports = new ReportService(config, influx, registry, policy, store, clock);
    return await work(new HistoryImports({ config, influx, registry, policy, state: store, clock, reports }));
  } finally {
    await store.close();
  }
}

/** The flags of `peakwatch import`. */
export interface ImportFlags {
  reason?: string;
  tz?: string;
  replace?: boolean;
  apply?: boolean;
  partial?: boolean;
  json?: boolean;
}

/**
 * `peakwatch import <file> --reason <text> [--tz <zone>] [--replace] [--apply [--partial]] [--json]`: the dry run, and
 * with --apply the batch written; its id alone on the last line (docs/imports.md). The lines around it in `language`.
 */
export async function importCommand(
  file: string,
  flags: ImportFlags,
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  if (flags.reason === undefined || flags.reason.trim() === '') throw new UsageError(t('import.noReason'));
  const reason = flags.reason;
  await withImports(async (imports) => {
    // rows read, their rate: a bar on a terminal, a JSON line every 10 s otherwise (standard error)
    const progress = new Progress('import', 'rows');
    let rows = 0;
    const planned = await imports.plan({
      path: file,
      ...(flags.tz !== undefined ? { zone: flags.tz } : {}),
      replace: flags.replace === true,
      onRowsRead: (read) => progress.update((rows = read)),
    });
    progress.finish(rows);
    const out = flags.json ? [JSON.stringify(planned.plan)] : renderPlan(planned.plan, language);
    if (!flags.apply) {
      if (!flags.json) out.push(t('import.dryRun'));
      process.stdout.write(`${out.join('\n')}\n`);
      return;
    }
    // the batch's points written: the same, the last line when the last point is written
    const writing = new Progress('import write', 'points');
    const { batchId, restated } = await imports.apply(planned, {
      ...CLI_ACTOR,
      reason,
      partial: flags.partial === true,
      onWritten: (done, total) => (done === total ? writing.finish(done) : writing.update(done, total)),
    });
    if (!flags.json)
      out.push(
        ...restated.map((r) =>
          t('import.restated', { organisation: r.orgId, period: r.period, version: r.version }),
        ),
        t('import.written'),
      );
    process.stdout.write(`${[...out, batchId].join('\n')}\n`);
  });
}

/** `peakwatch import rollback <batch>`: removes the batch's points and restores what it replaced. */
export async function importRollbackCommand(batchId: string, language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  await withImports(async (imports) => {
    const { batch, restated } = await imports.rollback(batchId, CLI_ACTOR);
    process.stdout.write(
      [
        t('import.rolledBack', {
          batch: batch.id,
          file: batch.fileName,
          rows: batch.rowsAccepted,
          replaced: batch.rowsReplaced,
        }),
        ...restated.map((r) =>
          t('import.restated', { organisation: r.orgId, period: r.period, version: r.version }),
        ),
        t('import.recomputed'),
        '',
      ].join('\n'),
    );
  });
}

/** `peakwatch import list`, `peakwatch import rejections <batch>` (CSV: row, field, reason, detail). */
export async function importListCommand(language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  await withImports(async (imports) => {
    for (const b of await imports.list())
      process.stdout.write(
        `${b.id}\t${b.state}\t${b.createdAt}\t${b.actor}\t${b.fileName}\t${t('import.rows', { rows: b.rowsAccepted })}\t${b.reason}\n`,
      );
  });
}

export async function importRejectionsCommand(batchId: string): Promise<void> {
  await withImports(async (imports) => {
    process.stdout.write(rejectionsCsv(await imports.rejections(batchId)));
  });
}
