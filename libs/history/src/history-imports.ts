import { randomBytes } from 'node:crypto';
import { CITY_ENTITY, PeakWatchError, MEASUREMENTS, KPI_PERIODS, type KpiPeriod } from '@peakwatch/contracts';
import type { AppConfig } from '@peakwatch/config';
import { intField, line, quoteString, type InfluxClient } from '@peakwatch/influx';
import { IMPORT_FINE_PERIODS, KpiWriter, utcOffsetMs, windowsOf } from '@peakwatch/metering';
import type { PolicyData } from '@peakwatch/policy';
import type { Registry } from '@peakwatch/registry';
import type { ReportService } from '@peakwatch/reporting';
import type { Clock } from '@peakwatch/runtime';
import { AuditLog, ImportBatches, type ImportBatch, type StateStore } from '@peakwatch/state';
import {
  downsampledMonths,
  planImport,
  reportsTouched,
  type ImportPlan,
  type ReportRef,
  type ImportRequest,
  type PlannedImport,
} from './import-plan';

/** An import that cannot be done as asked: the message says why and what to do (nothing was written). */
export class ImportRefusedError extends PeakWatchError {
  readonly code = 'import_refused';
}

/** No batch of that id. */
export class UnknownImportError extends PeakWatchError {
  readonly code = 'unknown_import';
}

/** Who asks for an import or a rollback, as the audit log and the batch record it. */
export interface ImportActor {
  actor: string;
  role: string;
}

/** The longest reason recorded (characters). */
export const MAX_REASON_LENGTH = 500;

/** A batch id: `imp-` with the UTC date and 8 random hex digits (a tag value that needs no escaping). */
function newBatchId(nowMs: number): string {
  return `imp-${new Date(nowMs).toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(4).toString('hex')}`;
}

/** A batch's device spans, as its dry run recorded them. */
function spansOf(batch: ImportBatch): ImportPlan['devices'] {
  return (batch.summary as ImportPlan).devices;
}

/**
 * History imports (docs/imports.md): the dry run, applying a batch (its points tagged with its id, its provenance in
 * the state store, the KPI windows it touches sent round again, the reports it changes restated) and rolling one back.
 */
export class HistoryImports {
  private readonly batches: ImportBatches;
  private readonly audit: AuditLog;

  constructor(
    private readonly deps: {
      config: AppConfig;
      influx: InfluxClient;
      registry: Registry;
      policy: PolicyData;
      state: StateStore;
      clock: Clock;
      /** Restates the reports an import changes (none: they are restated by their own schedule, if due). */
      reports?: ReportService;
    },
  ) {
    this.batches = new ImportBatches(deps.state);
    this.audit = new AuditLog(deps.state);
  }

  /** The dry run: nothing is written. */
  plan(request: ImportRequest): Promise<PlannedImport> {
    const nowMs = this.deps.clock.now();
    return planImport(request, {
      registry: this.deps.registry,
      influx: this.deps.influx,
      state: this.deps.state,
      utcOffsetMs: utcOffsetMs(this.deps.config.tzReporting, nowMs),
      nowMs,
      maxFutureMs: this.deps.config.ingest.maxFutureMs,
      horizonMs: this.deps.config.ingest.horizonMs,
      policy: this.deps.policy,
    });
  }

  /**
   * Writes a planned import as a new batch. Refused when rows were refused, unless `partial` confirms that the rest
   * is written without them. Order: the batch (state `applying`, with the points it replaces) first, then the
   * replaced points removed, the batch's points written, the late-data marks that send its windows round the KPI job
   * again; then the batch is `applied` and its reports restated. A batch left `applying` by a crash is rolled back
   * like any other. `onWritten` hears how many of the batch's points are written, of how many.
   */
  async apply(
    planned: PlannedImport,
    {
      reason,
      partial = false,
      onWritten,
      ...who
    }: ImportActor & {
      reason: string;
      partial?: boolean;
      onWritten?: (written: number, total: number) => void;
    },
  ): Promise<{ batchId: string; restated: ReportRef[] }> {
    const { plan } = planned;
    const why = reason.trim();
    if (why === '') throw new ImportRefusedError('an import needs a reason (--reason)', { field: 'reason' });
    if (why.length > MAX_REASON_LENGTH)
      throw new ImportRefusedError(`the reason is longer than ${MAX_REASON_LENGTH} characters`, {
        field: 'reason',
      });
    if (plan.rows.rejected > 0 && !partial)
      throw new ImportRefusedError(
        `${plan.rows.rejected} of ${plan.rows.read} rows were refused (first: row ${plan.rejections[0]!.row}, ` +
          `${plan.rejections[0]!.field}: ${plan.rejections[0]!.reason}); nothing was written. Correct them, or ` +
          'confirm a partial import of the other rows (--partial)',
        { field: 'file' },
      );
    if (plan.rows.accepted === 0)
      throw new ImportRefusedError('no row of the file can be imported', { field: 'file' });
    const nowMs = this.deps.clock.now();
    const batchId = newBatchId(nowMs);
    await this.batches.begin(
      {
        id: batchId,
        fileName: plan.fileName,
        fileSha256: plan.fileSha256,
        ...who,
        reason: why,
        createdAt: new Date(nowMs).toISOString(),
        rowsAccepted: plan.rows.accepted,
        rowsRejected: plan.rows.rejected,
        rowsReplaced: plan.rows.replaced,
        summary: { ...plan, rejections: undefined },
      },
      planned.rejections,
      planned.replaced,
    );
    // recorded before anything is written: a batch a crash leaves `applying` is in the audit log too
    await this.audit.record({
      ...who,
      action: 'import.apply',
      target: batchId,
      detail: { file: plan.fileName, sha256: plan.fileSha256, reason: why, rows: plan.rows },
    });
    await this.deleteStored(planned.replaced);
    const writer = new KpiWriter(this.deps.influx);
    const total = plan.devices.reduce((n, d) => n + d.readings, 0);
    let written = 0;
    for (const point of planned.points(batchId)) {
      await writer.add([point]);
      onWritten?.(++written, total);
    }
    await writer.close();
    await writeMarks(this.deps.influx, batchId, plan.devices, nowMs, this.fineFrom(nowMs));
    await this.batches.setState(batchId, 'applied', new Date(nowMs).toISOString());
    const restated = await this.restate(plan.reports);
    return { batchId, restated };
  }

  /**
   * Removes exactly a batch's points, writes back the points it replaced, removes the KPI points of the windows it
   * touched (recomputed by the next KPI run from what is left, so that no value of the batch's lingers in a window
   * left without one), and restates its reports; recorded in the audit log.
   */
  async rollback(batchId: string, who: ImportActor): Promise<{ batch: ImportBatch; restated: ReportRef[] }> {
    const batch = await this.batches.get(batchId);
    if (!batch) throw new UnknownImportError(`no import batch ${batchId.slice(0, 60)}`, { field: 'batch' });
    // a later batch that replaced some of this one's points holds them: rolled back first, it writes them back
    const holders = await this.batches.replacedBy(batchId);
    if (holders.length > 0)
      throw new ImportRefusedError(
        `import ${batchId}'s readings were replaced by import ${holders.join(', ')}: roll that back first`,
        { field: 'batch' },
      );
    if (batch.state === 'rolled_back')
      throw new ImportRefusedError(`import ${batchId} was rolled back at ${batch.rolledBackAt}`, {
        field: 'batch',
      });
    // its readings in a month the retention job down-sampled are snapshots now: they cannot be taken out
    for (const d of spansOf(batch))
      if ((await downsampledMonths(this.deps.influx, d.deviceId, d.fromMs, d.toMs)).length > 0)
        throw new ImportRefusedError(
          `import ${batchId}'s readings of ${d.deviceId} lie in a month down-sampled by retention (docs/retention.md): ` +
            'it cannot be rolled back',
          { field: 'batch' },
        );
    const { influx } = this.deps;
    await influx.command(`DELETE FROM ${MEASUREMENTS.telemetry} WHERE batch = ${quoteString(batchId)}`);
    const replaced = await this.batches.replaced(batchId);
    const writer = new KpiWriter(influx);
    await writer.add(replaced);
    await writer.close();
    const nowMs = this.deps.clock.now();
    await this.deleteKpis(spansOf(batch), nowMs);
    await writeMarks(influx, batchId, spansOf(batch), nowMs, this.fineFrom(nowMs));
    await this.batches.setState(batchId, 'rolled_back', new Date(nowMs).toISOString());
    // the reports of its months and years as they stand now (one generated since the import holds its readings)
    const restated = await this.restate(
      await reportsTouched(this.deps.state, this.deps.registry, (batch.summary as ImportPlan).windows),
    );
    await this.audit.record({
      ...who,
      action: 'import.rollback',
      target: batchId,
      detail: { file: batch.fileName, sha256: batch.fileSha256, pointsRestored: replaced.length, restated },
    });
    return { batch: (await this.batches.get(batchId))!, restated };
  }

  /** Where an import's quarter hours and hours are recomputed from (and a rollback's removed from): the horizon. */
  private fineFrom(nowMs: number): number {
    return nowMs - this.deps.config.ingest.horizonMs;
  }

  /**
   * Deletes stored points at exact times (every series of the device at each: InfluxQL deletes by tag and time), one
   * statement a time: a replace of many readings costs as many statements (docs/imports.md).
   */
  private async deleteStored(points: readonly { deviceId: string; tsMs: number }[]): Promise<void> {
    const done = new Set<string>();
    for (const { deviceId, tsMs: ts } of points) {
      if (done.has(`${deviceId}\u0000${ts}`)) continue;
      done.add(`${deviceId}\u0000${ts}`);
      await this.deps.influx.command(
        `DELETE FROM ${MEASUREMENTS.telemetry} WHERE device = ${quoteString(deviceId)} ` +
          `AND time >= ${ts}ms AND time <= ${ts}ms`,
      );
    }
  }

  /**
   * The `kpi` points of each span's site, its district and the city in the windows the KPI job recomputes from the
   * span's mark, so that a window left without readings is left without a point rather than with the batch's value:
   * every window of the span (the rolling 12 months that hold one of its months), but quarter hours and hours within
   * the horizon only.
   */
  private async deleteKpis(spans: ImportPlan['devices'], nowMs: number): Promise<void> {
    const offset = utcOffsetMs(this.deps.config.tzReporting, nowMs);
    for (const span of spans) {
      const entities = [span.siteId, this.deps.registry.site(span.siteId)?.district, CITY_ENTITY].filter(
        (e): e is string => e !== undefined,
      );
      const only = entities.map((e) => `entity = ${quoteString(e)}`).join(' OR ');
      for (const period of KPI_PERIODS as readonly KpiPeriod[]) {
        const from = IMPORT_FINE_PERIODS.has(period)
          ? Math.max(span.fromMs, this.fineFrom(nowMs))
          : span.fromMs;
        if (from > span.toMs) continue;
        const start = windowsOf(period, from, from + 1, offset)[0]!.startMs;
        await this.deps.influx.command(
          `DELETE FROM ${MEASUREMENTS.kpi} WHERE (${only}) AND period = ${quoteString(period)} ` +
            `AND time >= ${start}ms AND time <= ${span.toMs}ms`,
        );
      }
    }
  }

  private async restate(reports: ImportPlan['reports']): Promise<ReportRef[]> {
    if (!this.deps.reports) return [];
    const out: ReportRef[] = [];
    for (const { orgId, period } of reports) {
      const { version, created } = await this.deps.reports.generate(orgId, period);
      if (created) out.push({ orgId, period, version: version.version });
    }
    return out;
  }

  get(batchId: string): Promise<ImportBatch | undefined> {
    return this.batches.get(batchId);
  }

  list(): Promise<ImportBatch[]> {
    return this.batches.list();
  }

  rejections(batchId: string): ReturnType<ImportBatches['rejections']> {
    return this.batches.rejections(batchId);
  }
}

/**
 * Late-data marks (docs/contracts.md, `ingest_late`) for a batch's spans, tagged with the batch: the KPI job
 * recomputes their windows however old (an import is not held to INGEST_HORIZON_DAYS).
 */
async function writeMarks(
  influx: InfluxClient,
  batchId: string,
  spans: ImportPlan['devices'],
  nowMs: number,
  fineFromMs: number,
): Promise<void> {
  const writer = new KpiWriter(influx);
  await writer.add(
    spans.map((s) =>
      line(
        MEASUREMENTS.ingestLate,
        { batch: batchId, site: s.siteId, device: s.deviceId },
        {
          earliest_ms: intField(s.fromMs),
          latest_ms: intField(s.toMs),
          readings: intField(s.readings),
          fine_from_ms: intField(Math.max(s.fromMs, fineFromMs)),
        },
        nowMs,
      ),
    ),
  );
  await writer.close();
}
