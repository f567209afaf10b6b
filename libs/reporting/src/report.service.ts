import { MEASUREMENTS, PeakWatchError } from '@peakwatch/contracts';
import { Injectable, Logger } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Clock, PEAKWATCH_VERSION } from '@peakwatch/runtime';
import { InfluxClient, floatField, line } from '@peakwatch/influx';
import { writeKpiLines } from '@peakwatch/metering';
import { PolicyData } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import {
  Allowances,
  DeclaredInputsRepository,
  StateStore,
  deliveryId,
  enqueue,
  yearInputs,
  type Allowance,
  type AllowanceDeclaration,
  type DeclaredInputs,
} from '@peakwatch/state';
import { carbonMarketPosition, carbonMarketSource, type CarbonMarketPosition } from './carbon-position';
import { boundaryOf, computeReport, readReportSources } from './report';
import { bundleFiles, evidenceBundle, evidenceChanges, evidenceFiles } from './report-evidence';
import { ReportFiles, type ReportFormat } from './report-files';
import { type Report } from './report-schema';

export interface ReportVersion {
  orgId: string;
  period: string;
  version: number;
  kind: string;
  contentHash: string;
  corrects: number | null;
  changes: string[];
  /** What in the evidence caused the changes: readings added, changed or removed per meter, declarations, factors. */
  causes: string[];
  createdAt: string;
  submission: {
    deliveryId: string;
    deliveredAt: string | null;
    receipt: string | null;
    attempts: number;
  } | null;
}

/**
 * A declaration refused: green power for a site outside the organisation (`foreign_site`), or a purchase another
 * declaration already holds (`purchase_already_declared`); `field` names the entry at fault.
 */
export class DeclarationError extends PeakWatchError {
  constructor(
    readonly code: 'foreign_site' | 'purchase_already_declared',
    field: string,
    message: string,
  ) {
    super(message, { field });
  }
}

/** What changed between two versions of a report: its totals, as "field: before → after". */
export function reportChanges(before: Report, after: Report): string[] {
  const figures = (r: Report): [string, number][] => [
    ...r.energy.carriers.map((c): [string, number] => [`energy.${c.carrier} (${c.unit})`, c.quantity]),
    ['energy.totalTce (tce)', r.energy.totalTce],
    ...Object.entries(r.emissions).map(([k, v]): [string, number] => [`emissions.${k} (t)`, v]),
    ['completeness', r.completeness],
  ];
  const old = new Map(figures(before));
  return figures(after)
    .filter(([k, v]) => old.get(k) !== v)
    .map(([k, v]) => `${k}: ${old.get(k)} → ${v}`);
}

/**
 * Generates emitters' reports, keeps every version (state store, files in DATA_DIR/reports), and submits a new
 * version to the organisation's or district's endpoint through the outbox (signed, with an idempotency key,
 * retried; the receipt is stored). A report whose content is unchanged is not a new version; a changed one is,
 * with the changes listed and a reference to the version it corrects.
 */
@Injectable()
export class ReportService {
  private readonly logger = new Logger('ReportService');

  /** What organisations declare beside their meters (green power, heat, output). */
  private readonly declared: DeclaredInputsRepository;
  /** Each version's files. */
  private readonly files: ReportFiles;
  /** Carbon-market allowances declared. */
  private readonly allowances: Allowances;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly registry: Registry,
    private readonly policy: PolicyData,
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {
    this.declared = new DeclaredInputsRepository(state);
    this.files = new ReportFiles(config.dataDir);
    this.allowances = new Allowances(state);
  }

  async generate(
    orgId: string,
    period: string,
  ): Promise<{ version: ReportVersion; created: boolean; report: Report }> {
    const timeZone = this.config.tzReporting;
    const sources = await readReportSources({
      influx: this.influx,
      registry: this.registry,
      policy: this.policy,
      orgId,
      period,
      timeZone,
      inputs: await this.reportInputs(orgId, period),
      carbonMarket: await carbonMarketSource(this.state, orgId, period, timeZone),
    });
    const evidence = evidenceFiles(sources);
    const report = computeReport({ sources, period, timeZone, evidenceSha256: evidence.sha256 });
    const latest = await this.state.db
      .selectFrom('report')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('period', '=', period)
      .orderBy('version', 'desc')
      .executeTakeFirst();
    if (latest && latest.content_hash === report.contentHash)
      return { version: (await this.version(orgId, period, latest.version))!, created: false, report };
    const version = (latest?.version ?? 0) + 1;
    const changes = latest ? reportChanges(JSON.parse(latest.json) as Report, report) : [];
    const causes = latest ? await this.causes(orgId, period, latest.version, evidence.files) : [];
    const corrects = latest?.version ?? null;
    const now = this.clock.iso();
    const bundle = await evidenceBundle(report, evidence, {
      layout: report.evidence.layout,
      peakwatchVersion: PEAKWATCH_VERSION,
      organisation: orgId,
      period,
      version,
      createdAt: now,
    });
    await this.files.write(report, version, { ...(corrects ? { corrects } : {}), changes, causes }, bundle);
    const endpoint = this.endpoint(orgId);
    const delivery = endpoint ? deliveryId('report', orgId, period, version, endpoint) : null;
    await this.state.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('report')
        .values({
          org_id: orgId,
          period,
          version,
          kind: report.kind,
          content_hash: report.contentHash,
          corrects,
          changes: JSON.stringify(changes),
          causes: JSON.stringify(causes),
          created_at: now,
          json: JSON.stringify(report),
          delivery_id: delivery,
        })
        .execute();
      // the organisation's own warning: its projected carbon-market shortfall exceeds what it declared to be warned at
      if (report.carbonMarket?.warning)
        for (const { url } of this.config.reports.emitterWebhooks.filter((w) => w.org === orgId))
          await enqueue(tx, {
            deliveryId: deliveryId('carbon-position', orgId, period, version, url),
            channel: 'webhook',
            target: url,
            payload: JSON.stringify({
              type: 'carbon_position_warning',
              organisation: orgId,
              period,
              reportVersion: version,
              ...report.carbonMarket,
            }),
            at: now,
          });
      if (endpoint && delivery)
        await enqueue(tx, {
          deliveryId: delivery,
          channel: 'webhook',
          target: endpoint,
          payload: JSON.stringify({ type: 'report', version, corrects, changes, causes, report }),
          at: now,
        });
    });
    if (report.carbonMarket) await this.writePosition(report, version);
    this.logger.log(
      {
        org: orgId,
        period,
        version,
        corrects,
        changes: changes.length,
        causes: causes.length,
        submitted: endpoint !== undefined,
      },
      corrects ? 'report restated: a new version corrects the previous one' : 'report generated',
    );
    return { version: (await this.version(orgId, period, version))!, created: true, report };
  }

  /**
   * What in the evidence differs from the previous version's bundle (report-evidence.ts evidenceChanges); a version
   * made before bundles existed is said to have none.
   */
  private async causes(
    orgId: string,
    period: string,
    previous: number,
    files: ReadonlyMap<string, string>,
  ): Promise<string[]> {
    const bundle = this.files.read(orgId, period, previous, 'evidence');
    if (!bundle) return [`version ${previous} has no evidence bundle to compare with`];
    try {
      return evidenceChanges(await bundleFiles(bundle), files);
    } catch (error) {
      // a damaged file of an earlier version never keeps a correction from being filed
      return [`version ${previous}'s evidence bundle cannot be read (${(error as Error).message})`];
    }
  }

  /**
   * The position a monthly version states, as a point of `carbon_position` for the dashboards. InfluxDB down: logged,
   * and written by the next version (the report and the API have it meanwhile).
   */
  private async writePosition(report: Report, version: number): Promise<void> {
    const market = report.carbonMarket!;
    const optional = (name: string, x: number | null) => (x === null ? {} : { [name]: floatField(x) });
    const point = line(
      MEASUREMENTS.carbonPosition,
      {
        org: report.organisation.id,
        district: report.boundary[0]!.district,
        year: report.period.label.slice(0, 4),
      },
      {
        allowance_t: floatField(market.allowanceT),
        to_date_t: floatField(market.toDateT),
        ...optional('projected_t', market.projectedT),
        ...optional('surplus_t', market.surplusT),
        ...optional('surplus_cny', market.surplusCny),
        warning: market.warning ? 'true' : 'false',
        report_version: `${version}i`,
      },
      Date.parse(report.period.to),
    );
    try {
      await writeKpiLines(this.influx, [point]);
    } catch (error) {
      this.logger.warn(
        { err: error, org: report.organisation.id, period: report.period.label },
        'carbon position not written to InfluxDB',
      );
    }
  }

  /** What a report of the period counts: the period's declaration, and for a year its months' as well. */
  private async reportInputs(orgId: string, period: string): Promise<DeclaredInputs> {
    if (period.length !== 4) return this.inputs(orgId, period);
    const months = await Promise.all(
      Array.from({ length: 12 }, (_, i) => this.inputs(orgId, `${period}-${String(i + 1).padStart(2, '0')}`)),
    );
    return yearInputs(await this.inputs(orgId, period), months);
  }

  /** What the organisation declared for the period (green power, purchased heat, output); {} when nothing. */
  async inputs(orgId: string, period: string): Promise<DeclaredInputs> {
    return this.declared.get(orgId, period);
  }

  /**
   * Records what the organisation declares for a period; the next generation uses it (a new version if it changes).
   * Green power declared for a site must be for one of the organisation's sites.
   */
  async setInputs(orgId: string, period: string, inputs: DeclaredInputs): Promise<void> {
    const sites = new Set(boundaryOf(this.registry, orgId).map((s) => s.id));
    for (const [i, g] of (inputs.greenPower ?? []).entries()) {
      if (g.siteId !== undefined && !sites.has(g.siteId))
        throw new DeclarationError(
          'foreign_site',
          `greenPower.${i}.siteId`,
          `${g.siteId} is not a site of ${orgId}`,
        );
      const elsewhere = await this.declared.claimedElsewhere(orgId, period, g);
      if (elsewhere)
        throw new DeclarationError(
          'purchase_already_declared',
          `greenPower.${i}.evidenceId`,
          // another organisation's declarations are not the caller's to see: only that one exists
          `${g.kind} ${g.evidenceId} is already declared ${elsewhere.orgId === orgId ? `for ${elsewhere.period}` : 'by another organisation'}`,
        );
    }
    await this.declared.set(orgId, period, inputs, this.clock.iso());
  }

  /** Records the organisation's allowance for a compliance year: a year declared before gets a new version. */
  async declareAllowance(
    orgId: string,
    year: string,
    declaration: AllowanceDeclaration,
    by: string,
  ): Promise<Allowance> {
    boundaryOf(this.registry, orgId);
    return this.allowances.declare(orgId, year, declaration, by, this.clock.iso());
  }

  /** The organisation's carbon-market position in a compliance year, now (carbon-position.ts). */
  async position(orgId: string, year: number): Promise<CarbonMarketPosition> {
    boundaryOf(this.registry, orgId);
    return carbonMarketPosition(this.state, orgId, year, this.clock.now(), this.config.tzReporting);
  }

  async versions(orgId: string): Promise<ReportVersion[]> {
    const rows = await this.state.db
      .selectFrom('report')
      .select(['period', 'version'])
      .where('org_id', '=', orgId)
      .orderBy('period')
      .orderBy('version')
      .execute();
    return Promise.all(rows.map(async (r) => (await this.version(orgId, r.period, r.version))!));
  }

  async version(orgId: string, period: string, version: number): Promise<ReportVersion | undefined> {
    const row = await this.state.db
      .selectFrom('report')
      .leftJoin('outbox', 'outbox.delivery_id', 'report.delivery_id')
      .select([
        'report.period',
        'report.version',
        'report.kind',
        'report.content_hash',
        'report.corrects',
        'report.changes',
        'report.causes',
        'report.created_at',
        'report.delivery_id',
        'outbox.delivered_at',
        'outbox.receipt',
        'outbox.attempts',
      ])
      .where('report.org_id', '=', orgId)
      .where('report.period', '=', period)
      .where('report.version', '=', version)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      orgId,
      period: row.period,
      version: row.version,
      kind: row.kind,
      contentHash: row.content_hash,
      corrects: row.corrects,
      changes: JSON.parse(row.changes) as string[],
      causes: row.causes === null ? [] : (JSON.parse(row.causes) as string[]),
      createdAt: row.created_at,
      submission: row.delivery_id
        ? {
            deliveryId: row.delivery_id,
            deliveredAt: row.delivered_at ?? null,
            receipt: row.receipt ?? null,
            attempts: row.attempts ?? 0,
          }
        : null,
    };
  }

  /** Where a version's file in a format is kept (DATA_DIR/reports/<org>/<period>/v<n>.<format>). */
  path(orgId: string, period: string, version: number, format: ReportFormat): string {
    return this.files.path(orgId, period, version, format);
  }

  /** A version's file in a format, or undefined. */
  file(orgId: string, period: string, version: number, format: ReportFormat): Buffer | undefined {
    return this.files.read(orgId, period, version, format);
  }

  /** The organisation's own endpoint, else its district's. */
  private endpoint(orgId: string): string | undefined {
    const endpoints = this.config.reports.endpoints;
    const district = boundaryOf(this.registry, orgId)[0]!.district;
    return (
      endpoints.find((e) => e.scope === 'org' && e.id === orgId)?.url ??
      endpoints.find((e) => e.scope === 'district' && e.id === district)?.url
    );
  }
}
