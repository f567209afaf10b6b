import { z } from 'zod';
import { carbonPosition, type CarbonPosition, type MonthEmissions } from '@peakwatch/domain';
import { Allowances, allowanceSchema, type Allowance, type StateStore } from '@peakwatch/state';
import { reportPeriod } from './report-period';
import { round, type Report } from './report-schema';

/** The emissions a position counts: each filed month's location-based total (docs/reports.md). */
export const POSITION_BASIS = 'emissions.totalLocationT of the latest version of each monthly report filed';

/** A month's report counted in a position: its latest version, by its hash. */
export const filedMonthSchema = z
  .object({
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
    version: z.number().int().positive(),
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    tCo2: z.number(),
  })
  .strict();
export type FiledMonth = z.infer<typeof filedMonthSchema>;

/**
 * What a monthly report's carbon-market section is computed from (its evidence `carbon-market.json`): the allowance
 * declared for the year, and the reports of the year's earlier months and of the previous year.
 */
export const carbonMarketSourceSchema = z
  .object({
    allowance: allowanceSchema.extend({ version: z.number().int().positive() }),
    months: z.array(filedMonthSchema),
    previousYear: z.array(filedMonthSchema),
  })
  .strict();
export type CarbonMarketSource = z.infer<typeof carbonMarketSourceSchema>;

/** A position as reports and the API state it: tonnes to 4 decimals, CNY to 2, and whether to warn. */
export type PositionFigures = CarbonPosition & { basis: string; warning: boolean };

const month = (r: { period: string; tCo2: number }): MonthEmissions => ({
  month: Number(r.period.slice(5)),
  tCo2: r.tCo2,
});

/**
 * The position of a compliance year (libs/domain carbonPosition) from the months filed, the previous year's, and the
 * allowance; without an allowance, the emissions and projection only. `warning`: the projected shortfall exceeds the
 * allowance's `warnShortfallT`.
 */
export function positionOf({
  year,
  allowance,
  months,
  previousYear,
}: {
  year: number;
  allowance: Pick<Allowance, 'allowanceT' | 'carbonPriceCnyPerT' | 'warnShortfallT'> | undefined;
  months: readonly Pick<FiledMonth, 'period' | 'tCo2'>[];
  previousYear: readonly Pick<FiledMonth, 'period' | 'tCo2'>[];
}): PositionFigures {
  const position = carbonPosition({
    year,
    allowanceT: allowance?.allowanceT ?? 0,
    priceCnyPerT: allowance?.carbonPriceCnyPerT,
    months: months.map(month),
    previousYear: previousYear.map(month),
  });
  const t = (x: number | null): number | null => (x === null ? null : round(x, 4));
  const surplusT = allowance ? t(position.surplusT) : null;
  return {
    ...position,
    basis: POSITION_BASIS,
    toDateT: round(position.toDateT, 4),
    projectedT: t(position.projectedT),
    surplusT,
    surplusCny: allowance && position.surplusCny !== null ? round(position.surplusCny, 2) : null,
    warning:
      allowance?.warnShortfallT !== undefined && surplusT !== null && -surplusT > allowance.warnShortfallT,
  };
}

/**
 * The latest version of each monthly report of `orgId` in `year` whose month ended by `endedBy` (and, with `before`,
 * began before that period).
 */
export async function filedMonths(
  state: StateStore,
  orgId: string,
  year: number,
  { endedBy, timeZone, before }: { endedBy: number; timeZone: string; before?: string },
): Promise<FiledMonth[]> {
  const rows = await state.db
    .selectFrom('report')
    .select(['period', 'version', 'content_hash', 'json'])
    .where('org_id', '=', orgId)
    .where('period', 'like', `${year}-%`)
    .orderBy('period')
    .orderBy('version', 'desc')
    .execute();
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows)
    if (
      !latest.has(r.period) &&
      reportPeriod(r.period, timeZone).toMs <= endedBy &&
      (before === undefined || r.period < before)
    )
      latest.set(r.period, r);
  return [...latest.values()].map((r) => ({
    period: r.period,
    version: r.version,
    contentHash: r.content_hash,
    tCo2: (JSON.parse(r.json) as Report).emissions.totalLocationT,
  }));
}

/** An organisation's carbon-market position for a compliance year (API). */
export interface CarbonMarketPosition extends PositionFigures {
  organisation: string;
  year: number;
  allowance: Allowance | null;
  /** The reports counted: the latest version of each month of the year that has ended. */
  reports: FiledMonth[];
}

/** The position of `orgId` in compliance year `year` as of `nowMs`. */
export async function carbonMarketPosition(
  state: StateStore,
  orgId: string,
  year: number,
  nowMs: number,
  timeZone: string,
): Promise<CarbonMarketPosition> {
  const reports = await filedMonths(state, orgId, year, { endedBy: nowMs, timeZone });
  const allowance = await new Allowances(state).latest(orgId, String(year));
  return {
    organisation: orgId,
    year,
    allowance: allowance ?? null,
    reports,
    ...positionOf({
      year,
      allowance,
      months: reports,
      previousYear: await filedMonths(state, orgId, year - 1, { endedBy: nowMs, timeZone }),
    }),
  };
}

/**
 * What a monthly report of `period` states of the carbon market, from the allowance declared for its year and the
 * reports filed before it; undefined without an allowance.
 */
export async function carbonMarketSource(
  state: StateStore,
  orgId: string,
  period: string,
  timeZone: string,
): Promise<CarbonMarketSource | undefined> {
  const { kind, year, fromMs } = reportPeriod(period, timeZone);
  const allowance = kind === 'monthly' ? await new Allowances(state).latest(orgId, String(year)) : undefined;
  if (!allowance) return undefined;
  const { allowanceT, carbonPriceCnyPerT, warnShortfallT, version } = allowance;
  return {
    allowance: {
      allowanceT,
      ...(carbonPriceCnyPerT !== undefined ? { carbonPriceCnyPerT } : {}),
      ...(warnShortfallT !== undefined ? { warnShortfallT } : {}),
      version,
    },
    months: await filedMonths(state, orgId, year, { endedBy: fromMs, timeZone, before: period }),
    previousYear: await filedMonths(state, orgId, year - 1, { endedBy: fromMs, timeZone }),
  };
}
