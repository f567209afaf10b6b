import { Controller, Get, HttpStatus, Param, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { ID_PATTERN } from '@peakwatch/contracts';
import { marginOf, ruleApplies, type AlertRule } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import { Clock, csvCell } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { AlertVisibility } from '../alerts/alert-visibility';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';

const districtParam = z
  .object({ district: z.string().regex(ID_PATTERN, problem('expectedDistrictId')) })
  .strict();
const standingQuery = z.object({ format: z.enum(['json', 'csv']).optional() }).strict();

/** One site against one of the thresholds regulators are told about (a rule with regulators in its audience). */
export interface StandingMeasure {
  rule: string;
  title: string;
  kpi: string;
  period: string;
  comparison: 'above' | 'below';
  threshold: number;
  /** The value the alert evaluator last judged (null: none yet, or too few readings to judge). */
  value: number | null;
  /** How far past the threshold, as a fraction (positive: over it): libs/policy marginOf. */
  margin: number | null;
  /** Completeness of the window judged, where the rule has a minimum (its data-quality gate). */
  completeness: number | null;
  /** The rule's alert for the site: `firing`, `pending`, `resolved`, `inactive`, or `not_evaluated`. */
  state: string;
  since: string | null;
  source: AlertRule['policySource'];
}

export interface SiteStanding {
  site: string;
  name: string;
  type: string;
  /** The largest margin of its measures (null: none has a value). */
  worstMargin: number | null;
  measures: StandingMeasure[];
  /** Its open (pending or firing) regulator alerts. */
  openAlerts: { rule: string; title: string; state: string; since: string }[];
}

/**
 * A regulator's district standing (docs/contracts.md, "District standing"): every site of the district against the
 * thresholds regulators are alerted on, as the alert evaluator last judged them, ranked by how far over it is.
 */
@ApiTags('districts')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/districts')
export class DistrictsController {
  constructor(
    private readonly registry: Registry,
    private readonly state: StateStore,
    private readonly access: Access,
    private readonly alerts: AlertVisibility,
    private readonly clock: Clock,
  ) {}

  @Get(':district/standing')
  @Roles('admin', 'regulator')
  @ApiOperation({
    summary:
      "Every site of a district against the regulators' thresholds, worst first, with completeness and open alerts (format=csv: one row per site and measure)",
  })
  async standing(
    @Caller() caller: Principal,
    @Param() rawParams: Record<string, string>,
    @Query() rawQuery: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const { district } = parseInput(districtParam, rawParams);
    const { format = 'json' } = parseInput(standingQuery, rawQuery);
    const sites = this.registry.sites.filter((s) => s.district === district);
    // a district outside the caller's scope is as unknown as one that does not exist
    if (sites.length === 0 || !this.access.entity(caller, 'district', district))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noDistrict', { district });
    const states = await this.state.db
      .selectFrom('alert_state')
      .selectAll()
      .where(
        'site_id',
        'in',
        sites.map((s) => s.id),
      )
      .execute();
    const stateOf = (ruleId: string, siteId: string) =>
      states.find((r) => r.rule_id === ruleId && r.site_id === siteId && r.entity === siteId);
    // the rules in force today, as the evaluator judges them
    const today = this.clock.iso().slice(0, 10);
    const rules = this.alerts.regulatorRules().filter((r) => !r.validFrom || r.validFrom <= today);
    const standings: SiteStanding[] = sites.map((site) => {
      const measures = rules
        .filter((rule) => ruleApplies(rule, site))
        .flatMap((rule) => ('kpi' in rule.signal ? [{ rule, signal: rule.signal }] : []))
        .map(({ rule, signal }): StandingMeasure => {
          const row = stateOf(rule.id, site.id);
          const gate = stateOf(`${rule.id}.data-quality`, site.id);
          // a value held back by the data-quality gate is not judged: it is not shown as the site's standing
          const judged = gate === undefined || gate.state === 'inactive' || gate.state === 'resolved';
          const value = judged ? (row?.value ?? null) : null;
          return {
            rule: rule.id,
            title: rule.title,
            kpi: signal.kpi,
            period: signal.period,
            comparison: rule.comparison,
            threshold: rule.thresholdValue,
            value,
            margin: marginOf(rule, value),
            completeness: gate?.value ?? null,
            state: row?.state ?? 'not_evaluated',
            since: row?.since ?? null,
            source: rule.policySource,
          };
        });
      const margins = measures.flatMap((m) => (m.margin === null ? [] : [m.margin]));
      return {
        site: site.id,
        name: site.name,
        type: site.type,
        worstMargin: margins.length > 0 ? Math.max(...margins) : null,
        measures,
        openAlerts: states
          .filter(
            (r) =>
              r.site_id === site.id &&
              (r.state === 'firing' || r.state === 'pending') &&
              rules.some((rule) => rule.id === r.rule_id),
          )
          .map((r) => ({
            rule: r.rule_id,
            title: rules.find((rule) => rule.id === r.rule_id)!.title,
            state: r.state,
            since: r.since,
          })),
      };
    });
    // worst first; sites with no value last, by id
    standings.sort(
      (a, b) => (b.worstMargin ?? -Infinity) - (a.worstMargin ?? -Infinity) || (a.site < b.site ? -1 : 1),
    );
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8');
      res.setHeader('content-disposition', `attachment; filename="${district}-standing.csv"`);
      return standingCsv(standings);
    }
    return { district, at: this.clock.iso(), sites: standings };
  }
}

/** The standing as CSV: one row per site and measure, in the ranking's order. */
export function standingCsv(standings: readonly SiteStanding[]): string {
  const number = (n: number | null): string => (n === null ? '' : String(n));
  const rows = standings.flatMap((s) =>
    s.measures.map((m) =>
      [
        csvCell(s.site),
        csvCell(s.name),
        csvCell(m.rule),
        csvCell(m.kpi),
        csvCell(m.period),
        number(m.value),
        csvCell(m.comparison),
        number(m.threshold),
        number(m.margin),
        number(m.completeness),
        csvCell(m.state),
        csvCell(m.since ?? ''),
      ].join(','),
    ),
  );
  return ['site,name,rule,kpi,period,value,comparison,threshold,margin,completeness,state,since', ...rows]
    .map((l) => `${l}\n`)
    .join('');
}
