import { createHash } from 'node:crypto';
import { CITY_ENTITY, type KpiPeriod, type KpiScope } from '@peakwatch/contracts';
import {
  KPI_AGGREGATION,
  KpiCombination,
  combineKpi,
  elapsedShare,
  MS_PER_HOUR,
  heatPumpRenewableKwh,
  loadFactor,
  projectedQuotaUse,
  reductionAgainstBaseline,
  type KpiAggregation,
  type KpiCombinationSums,
  type KpiParts,
} from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import {
  kpiLine,
  periodWindow,
  readKpis,
  windowsOf,
  writeKpiLines,
  type CalendarPeriod,
  type KpiValue,
  type KpiWindowRange,
  type StoredKpi,
} from '@peakwatch/metering';
import { Registry, type Site } from '@peakwatch/registry';
import { declaresGreenPower, greenPowerKwh, type DeclaredInputs } from '@peakwatch/state';

/** What each calendar period is combined from. */
const SOURCE_PERIOD: Record<CalendarPeriod, KpiPeriod> = { '1mo': '1d', '1y': '1mo', rolling_12mo: '1mo' };
/** Order in which calendar periods are written (a year and a rolling 12 months need the months first). */
export const CALENDAR_PERIODS: readonly CalendarPeriod[] = ['1mo', '1y', 'rolling_12mo'];
/**
 * Not rolled up over sites: per-device KPIs (`cop` has the heat pump as its category), peaks, which need not
 * coincide, and CO2 at each site's own baseline year's factors.
 */
const PER_DEVICE_KPIS = new Set([
  'cop',
  'heat_pump_renewable_kwh',
  'peak_demand_kw',
  'peak_hours_load_kw',
  'meter_completeness',
  'co2_baseline_factors_t',
]);
/** The periods that are a heat pump's season (docs/domain.md, "Heat pumps"). */
const SEASONS: ReadonlySet<CalendarPeriod> = new Set(['1y', 'rolling_12mo']);

/**
 * What a calendar period's renewable shares need beside their stored parts: for a season's heat pumps, the minimum
 * SPF (seeds/policy) and the coal equivalent of heat; for green power bought, the coal equivalents of electricity of
 * both methods.
 */
export interface CalendarFactors {
  minSpf: number;
  heatKgcePerKwh: number;
  electricityKgcePerKwh: number;
  generationKgcePerKwh: number;
}

/** Green power declared for one site and window: whether any declaration covers it, and its kWh. */
export interface SiteGreenPower {
  declared: boolean;
  kwh: number;
}

/** Reads the declarations of periods (YYYY and YYYY-MM labels): libs/state DeclaredInputsRepository.forPeriods. */
export type DeclarationsReader = (
  periods: readonly string[],
) => Promise<{ orgId: string; period: string; inputs: DeclaredInputs }[]>;

/** A combined KPI of one entity and window, before it is written. */
export interface CombinedKpi extends KpiParts {
  entity: string;
  kpi: string;
  category?: string;
  windowStartMs: number;
  /** How many stored parts (months) it was combined from. */
  partCount: number;
  /** A renewable share with nothing renewable metered or declared (creditGreenPower). */
  undeclared?: boolean;
  /** The import batches among its parts' readings (docs/imports.md). */
  batches?: string[];
  /** A cost with some part at no tariff (KpiValue.noTariff). */
  noTariff?: boolean;
}

/**
 * Credits each heat pump of a season (a year, a rolling 12 months) by the season's SPF, EU RED Annex VII: its
 * `heat_pump_renewable_kwh` becomes Q × (1 − 1/SPF) of the season's heat Q and SPF = Q / W (its `cop` combined over
 * the season), or 0 when that SPF does not exceed the minimum, instead of the sum of its shorter windows' credits; the
 * site's `renewable_share` takes the difference in both its renewable and its total energy (tce), as ambient heat is
 * part of both. Changes `combined` in place.
 */
export function creditSeasonalHeatPumps(
  combined: CombinedKpi[],
  season: Pick<CalendarFactors, 'minSpf' | 'heatKgcePerKwh'>,
): void {
  const key = (k: { entity: string; windowStartMs: number }): string => `${k.entity}\u0000${k.windowStartMs}`;
  const cops = new Map(
    combined.filter((k) => k.kpi === 'cop').map((k) => [`${key(k)}\u0000${k.category ?? ''}`, k] as const),
  );
  const shares = new Map(
    combined.filter((k) => k.kpi === 'renewable_share').map((k) => [key(k), k] as const),
  );
  const generationShares = combined.filter((k) => k.kpi === 'renewable_share_generation');
  const deltaKwh = new Map<string, number>();
  for (const credit of combined.filter((k) => k.kpi === 'heat_pump_renewable_kwh')) {
    const cop = cops.get(`${key(credit)}\u0000${credit.category ?? ''}`);
    const share = shares.get(key(credit));
    if (!cop || cop.value === null || !share || share.value === null) continue;
    // only where every part that holds the heat pump's heat also holds its credit and the site's share: months stored
    // before the credit series existed (or without a share) would otherwise be credited twice, or never subtracted
    if (cop.partCount !== credit.partCount || share.partCount !== credit.partCount) continue;
    const seasonal = heatPumpRenewableKwh({ heatKwh: cop.numerator, spf: cop.value, minSpf: season.minSpf });
    deltaKwh.set(key(credit), (deltaKwh.get(key(credit)) ?? 0) + seasonal - credit.numerator);
    credit.value = seasonal;
    credit.numerator = seasonal;
  }
  // both methods count ambient heat at the coal equivalent of heat
  for (const share of [...shares.values(), ...generationShares]) {
    const delta = ((deltaKwh.get(key(share)) ?? 0) * season.heatKgcePerKwh) / 1000;
    if (delta === 0 || share.value === null) continue;
    share.numerator += delta;
    share.denominator += delta;
    share.value = share.denominator > 0 ? share.numerator / share.denominator : null;
  }
}

/**
 * Credits each site's renewable shares of a calendar window with the green power declared for it (certificates,
 * green-power contracts; docs/domain.md, "Green power"). Green power is credited month by month: a month takes its own
 * declarations and a twelfth of its year's, up to its grid imports (`grid_import_kwh`: bought green power covers
 * electricity bought, never the site's own PV), written as `green_power_kwh`; a year and a rolling 12 months hold
 * their months' credits through their parts. The credit enters the renewable energy (tce, at each share's coal
 * equivalent of electricity), not the total, which holds that electricity already. A share with nothing renewable
 * metered or credited and no declaration is `undeclared` (its value, 0, is not a share: a reader shows none). Changes
 * `combined` in place.
 */
export function creditGreenPower(
  combined: CombinedKpi[],
  greenPower: (entity: string, windowStartMs: number) => SiteGreenPower,
  factors: Pick<CalendarFactors, 'electricityKgcePerKwh' | 'generationKgcePerKwh'>,
  /** Months are credited (and write their credit, 0 too, so a withdrawn declaration leaves none behind). */
  monthly: boolean,
): void {
  const key = (k: { entity: string; windowStartMs: number }): string => `${k.entity}\u0000${k.windowStartMs}`;
  const imports = new Map(
    combined
      .filter((k) => monthly && k.kpi === 'grid_import_kwh' && !k.category)
      .map((k) => [key(k), k] as const),
  );
  const credited = new Map<string, number>();
  for (const [k, grid] of imports) {
    const green = greenPower(grid.entity, grid.windowStartMs);
    const creditKwh = Math.min(green.kwh, Math.max(0, grid.value ?? 0));
    credited.set(k, creditKwh);
    combined.push({
      ...grid,
      kpi: 'green_power_kwh',
      value: creditKwh,
      numerator: creditKwh,
      denominator: 1,
    });
  }
  const coefficient: Record<string, number> = {
    renewable_share: factors.electricityKgcePerKwh,
    renewable_share_generation: factors.generationKgcePerKwh,
  };
  for (const share of combined) {
    const kgcePerKwh = coefficient[share.kpi];
    if (kgcePerKwh === undefined || share.category || share.value === null) continue;
    share.numerator += ((credited.get(key(share)) ?? 0) * kgcePerKwh) / 1000;
    share.value = share.denominator > 0 ? share.numerator / share.denominator : null;
    // said either way: a window written again keeps the fields it is not written with (InfluxDB merges a point)
    share.undeclared = share.numerator <= 0 && !greenPower(share.entity, share.windowStartMs).declared;
  }
}

/**
 * The declaration periods (YYYY-MM, YYYY) of a window: `covering`, those whose declaration makes the window declared
 * (its months' and its years'); `counted`, those whose green power the window is credited with, and in what share: a
 * month its own and a twelfth of its year's; a year and a rolling 12 months none of their own (their months' credits
 * are in their parts).
 */
export function declarationPeriods(
  period: CalendarPeriod,
  windowStartMs: number,
  utcOffsetMs: number,
): { covering: string[]; counted: { period: string; share: number }[] } {
  const start = new Date(windowStartMs + utcOffsetMs);
  const month = (i: number): string =>
    new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1)).toISOString().slice(0, 7);
  if (period === '1mo')
    return {
      covering: [month(0), month(0).slice(0, 4)],
      counted: [
        { period: month(0), share: 1 },
        { period: month(0).slice(0, 4), share: 1 / 12 },
      ],
    };
  const months = Array.from({ length: 12 }, (_, i) => month(i));
  return { covering: [...new Set(months.map((m) => m.slice(0, 4))), ...months], counted: [] };
}

/**
 * Whether an organisation's declaration speaks for one of its sites: it names the site; or the organisation has that
 * one site alone; or it declares none bought (no purchase, no certificates), for every site.
 */
export function declaresFor(inputs: DeclaredInputs, siteId: string, alone: boolean): boolean {
  if (!declaresGreenPower(inputs)) return false;
  const none = (inputs.greenPower ?? []).length === 0 && !inputs.greenCertificates;
  return none || alone || (inputs.greenPower ?? []).some((g) => g.siteId === siteId);
}

/**
 * The green power declared for a site in a window, from the declarations of its organisation: purchases naming the
 * site, and those of the organisation without a site when it has that one site alone (an organisation of several sites
 * names the site of each purchase for its sites' KPIs; its report counts them all).
 */
export function siteGreenPower(
  site: Site | undefined,
  registry: Registry,
  periods: ReturnType<typeof declarationPeriods>,
  declarations: readonly { orgId: string; period: string; inputs: DeclaredInputs }[],
): SiteGreenPower {
  const org = site?.emitter?.id;
  if (!site || !org) return { declared: false, kwh: 0 };
  const alone = sitesOf(registry, org) === 1;
  const ours = declarations.filter((d) => d.orgId === org);
  let kwh = 0;
  for (const { period, share } of periods.counted)
    for (const d of ours.filter((x) => x.period === period))
      kwh += share * (greenPowerKwh(d.inputs, site.id) + (alone ? greenPowerKwh(d.inputs) : 0));
  return {
    declared: ours.some((d) => periods.covering.includes(d.period) && declaresFor(d.inputs, site.id, alone)),
    kwh,
  };
}

/** The number of sites of each organisation, counted once per registry (a city's run asks for every site). */
const ORG_SITES = new WeakMap<Registry, Map<string, number>>();

function sitesOf(registry: Registry, org: string): number {
  let counts = ORG_SITES.get(registry);
  if (!counts) {
    counts = new Map();
    for (const s of registry.sites)
      if (s.emitter) counts.set(s.emitter.id, (counts.get(s.emitter.id) ?? 0) + 1);
    ORG_SITES.set(registry, counts);
  }
  return counts.get(org) ?? 0;
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export const partsOf = (k: KpiParts): KpiParts => ({
  value: k.value,
  numerator: k.numerator,
  denominator: k.denominator,
  completeness: k.completeness,
  estimated: k.estimated,
  estimatedShare: k.estimatedShare,
  ...(k.atMs === undefined ? {} : { atMs: k.atMs }),
});

/**
 * The stored site KPIs that calendar windows holding some of [fromMs, toMs) are combined from, read once per source
 * period for all the calendar `periods` of that source: a year and a rolling 12 months both combine months, so a run
 * reads the months once for both. Ask in CALENDAR_PERIODS order, so that the months are read after they were written.
 */
class CalendarSources {
  private readonly reads = new Map<KpiPeriod, Promise<StoredKpi[]>>();

  constructor(
    private readonly influx: InfluxClient,
    private readonly range: {
      fromMs: number;
      toMs: number;
      utcOffsetMs: number;
      siteIds?: readonly string[];
    },
    private readonly periods: readonly CalendarPeriod[] = CALENDAR_PERIODS,
  ) {}

  of(period: CalendarPeriod): Promise<StoredKpi[]> {
    const source = SOURCE_PERIOD[period];
    let read = this.reads.get(source);
    if (!read) {
      const { fromMs, toMs, utcOffsetMs, siteIds } = this.range;
      const windows = this.periods
        .filter((p) => SOURCE_PERIOD[p] === source)
        .flatMap((p) => windowsOf(p, fromMs, toMs, utcOffsetMs));
      read = readKpis(this.influx, {
        scope: 'site',
        period: source,
        fromMs: Math.min(...windows.map((w) => w.startMs)),
        toMs: Math.max(...windows.map((w) => w.endMs)),
        ...(siteIds ? { entities: siteIds } : {}),
      });
      read.catch(() => undefined); // awaited by its caller; not unhandled if that caller stops first
      this.reads.set(source, read);
    }
    return read;
  }
}

/** Sites whose calendar KPIs are read and combined together: a city's run holds a bounded share of them at once. */
const CALENDAR_SITES_PER_READ = 500;

/** What every calendar period of a pass shares. */
interface CalendarPass {
  influx: InfluxClient;
  fromMs: number;
  toMs: number;
  utcOffsetMs: number;
  /** For the reductions against each site's baseline (a year, a rolling 12 months). */
  registry?: Registry;
  /** The present: a window not yet over is projected to its end by the share of it elapsed (default: all closed). */
  asOfMs?: number;
  /**
   * Heat pumps of a season (a year, a rolling 12 months) credited by the season's SPF (creditSeasonalHeatPumps), and
   * green power declared (creditGreenPower).
   */
  factors: CalendarFactors;
  /** The declared green power (none: every share with nothing renewable metered is undeclared). */
  declarations?: DeclarationsReader;
}

/**
 * Writes the calendar `periods`' site KPIs (in CALENDAR_PERIODS order: a year and a rolling 12 months combine the
 * months written before them) for their windows that hold some of [fromMs, toMs), combined from the stored shorter
 * period (a month from its days; a year and a rolling 12 months from months), CALENDAR_SITES_PER_READ sites at a time:
 * every site of the registry, or `siteIds`. A window with no stored part at all is not written. With `areas` (every
 * site: no `siteIds`, and the registry), also the districts' and the city's values of these windows, combined from the
 * site values just computed instead of read back (writeAreaKpis would read every site's). Returns the number of KPI
 * values written.
 */
export async function writeCalendarKpis({
  periods = CALENDAR_PERIODS,
  siteIds,
  areas = false,
  sitesPerRead = CALENDAR_SITES_PER_READ,
  ...pass
}: CalendarPass & {
  periods?: readonly CalendarPeriod[];
  siteIds?: readonly string[];
  areas?: boolean;
  /** Sites read and combined together (default CALENDAR_SITES_PER_READ). */
  sitesPerRead?: number;
}): Promise<number> {
  // in CALENDAR_PERIODS order whatever the caller's: a year and a rolling 12 months read the months written before them
  const ordered = CALENDAR_PERIODS.filter((p) => periods.includes(p));
  const { influx, registry, fromMs, toMs, utcOffsetMs } = pass;
  const ids = siteIds ?? registry?.sites.map((site) => site.id);
  const chunks = ids
    ? Array.from({ length: Math.ceil(ids.length / sitesPerRead) }, (_, i) =>
        ids.slice(i * sitesPerRead, (i + 1) * sitesPerRead),
      )
    : [undefined];
  const rollups =
    areas && !siteIds && registry ? new Map(ordered.map((p) => [p, new AreaRollup(registry, p)])) : undefined;
  // the declarations are the same for every chunk: read once per set of periods
  const declared = new Map<string, ReturnType<DeclarationsReader>>();
  const read = pass.declarations;
  if (read)
    pass.declarations = (periods) => {
      const key = [...periods].sort().join(',');
      if (!declared.has(key)) declared.set(key, read(periods));
      return declared.get(key)!;
    };
  let written = 0;
  for (const entities of chunks) {
    const range = { fromMs, toMs, utcOffsetMs, ...(entities ? { siteIds: entities } : {}) };
    const sources = new CalendarSources(influx, range, ordered);
    for (const period of ordered) {
      const rollup = rollups?.get(period);
      written += await writeCalendarPeriod(pass, period, sources, rollup);
    }
  }
  if (rollups) {
    const lines = [...rollups.values()].flatMap((rollup) => rollup.lines());
    await writeKpiLines(influx, lines);
    written += lines.length;
  }
  return written;
}

/** One calendar period of a pass, for the sites `sources` reads; their values also added to `rollup`. */
async function writeCalendarPeriod(
  {
    influx,
    fromMs,
    toMs,
    utcOffsetMs,
    registry,
    asOfMs = Number.POSITIVE_INFINITY,
    factors,
    declarations,
  }: CalendarPass,
  period: CalendarPeriod,
  sources: CalendarSources,
  rollup: AreaRollup | undefined,
): Promise<number> {
  const windows = windowsOf(period, fromMs, toMs, utcOffsetMs);
  if (windows.length === 0) return 0;
  const source = SOURCE_PERIOD[period];
  const stored = await sources.of(period);
  // the parts each window has when complete (its days, its months)
  const expectedParts = new Map(
    windows.map((w) => [w.startMs, windowsOf(source, w.startMs, w.endMs, utcOffsetMs).length]),
  );
  const combined: CombinedKpi[] = [];
  for (const series of groupBy(
    stored,
    (k) => `${k.entity}\u0000${k.kpi}\u0000${k.category ?? ''}`,
  ).values()) {
    const { entity, kpi, category } = series[0]!;
    const aggregation = KPI_AGGREGATION[kpi];
    if (!aggregation) continue;
    for (const w of windows) {
      const parts = series.filter((k) => k.windowStartMs >= w.startMs && k.windowStartMs < w.endMs);
      if (parts.length === 0) continue;
      const result = combineKpi(parts.map(partsOf), {
        aggregation,
        over: 'time',
        expectedParts: expectedParts.get(w.startMs)!,
      });
      const batches = [...new Set(parts.flatMap((k) => k.batches ?? []))].sort();
      // a cost with a day priced at no tariff is no cost at all, never a part of one
      const noTariff = parts.some((k) => k.noTariff);
      combined.push({
        entity,
        kpi,
        ...(category ? { category } : {}),
        windowStartMs: w.startMs,
        ...result,
        ...(noTariff ? { value: null, noTariff } : {}),
        partCount: parts.length,
        ...(batches.length > 0 ? { batches } : {}),
      });
    }
  }
  if (SEASONS.has(period)) creditSeasonalHeatPumps(combined, factors);
  const periodsOf = new Map(
    windows.map((w) => [w.startMs, declarationPeriods(period, w.startMs, utcOffsetMs)]),
  );
  const declared = declarations
    ? await declarations([...new Set([...periodsOf.values()].flatMap((p) => p.covering))])
    : [];
  creditGreenPower(
    combined,
    (entity, windowStartMs) =>
      siteGreenPower(
        registry?.site(entity),
        registry ?? new Registry([]),
        periodsOf.get(windowStartMs)!,
        declared,
      ),
    factors,
    period === '1mo',
  );
  const endOf = new Map(windows.map((w) => [w.startMs, w.endMs]));
  combined.push(...calendarLoadFactors(combined, endOf, asOfMs));
  const lines: string[] = [];
  const write = (entity: string, k: KpiValue): void => {
    lines.push(kpiLine(k, { scope: 'site', entity, period }));
    rollup?.add(entity, k);
  };
  const baselines =
    registry && period !== '1mo'
      ? await dataBaselines(influx, registry, combined, utcOffsetMs, asOfMs)
      : new Map<string, Site>();
  for (const { entity, kpi, category, windowStartMs, partCount: _, ...parts } of combined) {
    write(entity, { kpi, ...(category ? { category } : {}), windowStartMs, ...parts });
    const elapsed = elapsedShare({ windowStartMs, windowEndMs: endOf.get(windowStartMs)!, asOfMs });
    const site = baselines.get(entity) ?? registry?.site(entity);
    const reductionLine = baselineReduction(site, kpi, category, period, parts, elapsed);
    if (reductionLine) write(entity, { ...reductionLine, windowStartMs });
  }
  await writeKpiLines(influx, lines);
  return lines.length;
}

/**
 * The load factor of each site's calendar window from its combined parts (docs/domain.md, "Cost and peaks"): the
 * electricity bought over the window's peak demand held for all of its hours (of a window not yet over, its hours
 * until `asOfMs`). Not a combination of the days' load factors: a month's peak is the largest of its days', its energy
 * their sum.
 */
export function calendarLoadFactors(
  combined: readonly CombinedKpi[],
  endOf: ReadonlyMap<number, number>,
  asOfMs = Number.POSITIVE_INFINITY,
): CombinedKpi[] {
  const bought = new Map(
    combined
      .filter((k) => k.kpi === 'grid_import_kwh')
      .map((k) => [`${k.entity}\u0000${k.windowStartMs}`, k]),
  );
  return combined.flatMap((peak) => {
    const energy = bought.get(`${peak.entity}\u0000${peak.windowStartMs}`);
    if (peak.kpi !== 'peak_demand_kw' || !energy) return [];
    const hours = (Math.min(endOf.get(peak.windowStartMs)!, asOfMs) - peak.windowStartMs) / MS_PER_HOUR;
    if (hours <= 0) return [];
    const value =
      peak.value === null || energy.value === null
        ? null
        : loadFactor({ energyKwh: energy.value, peakKw: peak.value, hours });
    return [
      {
        entity: peak.entity,
        kpi: 'load_factor',
        windowStartMs: peak.windowStartMs,
        value,
        numerator: energy.numerator,
        denominator: peak.numerator * hours,
        completeness: energy.completeness,
        estimated: energy.estimated || peak.estimated,
        estimatedShare: energy.estimatedShare,
        partCount: energy.partCount,
      },
    ];
  });
}

/** The year KPIs a baseline from data is made of: electricity, comprehensive energy and CO2 (per m² of floor area). */
type BaselineKpi = 'eui_kwh_m2' | 'energy_kgce_m2' | 'co2_baseline_factors_t';

/**
 * The sites whose registry `baseline` comes from data (docs/imports.md, "Baseline from data"), with its figures filled
 * from their baseline year as the KPIs hold it: the year combined in this pass when it is one of its windows, else
 * the stored one. Only a year over (before `asOfMs`) with a value is a baseline; until then the site has none.
 */
async function dataBaselines(
  influx: InfluxClient,
  registry: Registry,
  combined: readonly CombinedKpi[],
  utcOffsetMs: number,
  asOfMs: number,
): Promise<Map<string, Site>> {
  const sites = registry.sites.filter(
    (s) => s.baseline?.source === 'data' && combined.some((k) => k.entity === s.id),
  );
  const out = new Map<string, Site>();
  for (const site of sites) {
    // the reporting zone's year: any instant inside it names it
    const year = periodWindow('1y', Date.UTC(site.baseline!.year, 6, 1) - utcOffsetMs, utcOffsetMs);
    if (year.endMs > asOfMs) continue;
    const fresh = combined.filter(
      (k) => k.entity === site.id && !k.category && k.windowStartMs === year.startMs,
    );
    const stored =
      fresh.length > 0
        ? []
        : await readKpis(influx, {
            scope: 'site',
            period: '1y',
            fromMs: year.startMs,
            toMs: year.startMs + 1,
            entities: [site.id],
          });
    const value = (kpi: BaselineKpi): number | undefined => {
      const v = (fresh.length > 0 ? fresh : stored).find((k) => k.kpi === kpi && !k.category)?.value;
      return typeof v === 'number' && v > 0 ? v : undefined;
    };
    const co2T = value('co2_baseline_factors_t');
    out.set(site.id, {
      ...site,
      baseline: {
        ...site.baseline!,
        ...(value('eui_kwh_m2') ? { energyKwhPerM2: value('eui_kwh_m2') } : {}),
        ...(value('energy_kgce_m2') ? { energyKgcePerM2: value('energy_kgce_m2') } : {}),
        ...(co2T ? { carbonKgPerM2: (co2T * 1000) / site.floorAreaM2 } : {}),
      },
    });
  }
  return out;
}

/**
 * Site targets from the registry, for a year (and a rolling 12 months): `quota_use` (the electricity quota) and
 * `energy_reduction`, `energy_kgce_reduction`, `co2_reduction` (electricity, comprehensive energy and carbon per m²
 * against the `baseline`), projected linearly to the
 * window's end by the share of it `elapsed` (libs/domain projectedQuotaUse, reductionAgainstBaseline). A projection
 * (a window not yet over) is marked estimated; a closed window is not projected.
 */
function baselineReduction(
  site: Site | undefined,
  kpi: string,
  category: string | undefined,
  period: CalendarPeriod,
  combined: KpiParts,
  elapsed: number,
): Omit<KpiValue, 'windowStartMs'> | undefined {
  if (!site || category || period === '1mo' || combined.value === null) return undefined;
  if (kpi === 'energy_kwh' && period === '1y' && site.electricityQuotaKwh) {
    // quota burn: the year's energy so far over the quota; the value is the use projected to the year end
    return {
      kpi: 'quota_use',
      value: projectedQuotaUse({ energyKwh: combined.value, elapsed, quotaKwh: site.electricityQuotaKwh }),
      numerator: combined.value,
      denominator: site.electricityQuotaKwh,
      ...projection(combined, elapsed),
    };
  }
  if (!site.baseline) return undefined;
  // electricity per m², comprehensive energy per m² (the Haidian energy target's basis), and CO2 per m² at the
  // baseline year's factors, so that a revised factor is not reported as a reduction (docs/domain.md, "CO2")
  const perM2 =
    kpi === 'eui_kwh_m2'
      ? { name: 'energy_reduction', intensity: combined.value, baseline: site.baseline.energyKwhPerM2 }
      : kpi === 'energy_kgce_m2'
        ? {
            name: 'energy_kgce_reduction',
            intensity: combined.value,
            baseline: site.baseline.energyKgcePerM2,
          }
        : kpi === 'co2_baseline_factors_t'
          ? {
              name: 'co2_reduction',
              intensity: (combined.value * 1000) / site.floorAreaM2,
              baseline: site.baseline.carbonKgPerM2,
            }
          : undefined;
  if (!perM2?.baseline) return undefined;
  const value = reductionAgainstBaseline({ intensity: perM2.intensity, elapsed, baseline: perM2.baseline });
  return {
    kpi: perM2.name,
    value,
    numerator: perM2.intensity,
    denominator: perM2.baseline,
    ...projection(combined, elapsed),
  };
}

/** A value projected from `combined` by the share of its window `elapsed`: estimated, and says so, unless closed. */
function projection(
  combined: KpiParts,
  elapsed: number,
): Pick<KpiValue, 'completeness' | 'estimated' | 'estimatedShare' | 'elapsed'> {
  return {
    completeness: combined.completeness,
    estimated: combined.estimated || elapsed < 1,
    estimatedShare: combined.estimatedShare,
    ...(elapsed < 1 ? { elapsed } : {}),
  };
}

/**
 * Writes the district and city KPIs of `period` for `windows`, combined from the site KPIs stored for those windows
 * (the registry gives each site's district). Completeness is the mean over the sites that have the KPI. Returns the
 * number of KPI values written.
 */
export async function writeAreaKpis({
  influx,
  registry,
  period,
  windows,
}: {
  influx: InfluxClient;
  registry: Registry;
  period: KpiPeriod;
  windows: readonly KpiWindowRange[];
}): Promise<number> {
  let written = 0;
  // A few hundred windows at a time: a year of 15-minute windows of many sites is never read at once.
  for (let i = 0; i < windows.length; i += AREA_WINDOWS_PER_READ)
    written += await writeAreaChunk(influx, registry, period, windows.slice(i, i + AREA_WINDOWS_PER_READ));
  return written;
}

/** Windows whose site KPIs are read and combined in one go. */
const AREA_WINDOWS_PER_READ = 480;

async function writeAreaChunk(
  influx: InfluxClient,
  registry: Registry,
  period: KpiPeriod,
  windows: readonly KpiWindowRange[],
): Promise<number> {
  const rollup = new AreaRollup(registry, period);
  for (const k of await readKpis(influx, {
    scope: 'site',
    period,
    fromMs: windows[0]!.startMs,
    toMs: windows.at(-1)!.startMs + 1,
  }))
    rollup.add(k.entity, k);
  const lines = rollup.lines();
  await writeKpiLines(influx, lines);
  return lines.length;
}

/**
 * The district and city KPIs of one period, combined from site KPIs added one at a time (held as running sums, not
 * as the site values). Completeness is the mean over the sites that have the KPI.
 */
export class AreaRollup {
  /** Per window start, per KPI (and category): the city's combination and each district's. */
  private readonly windows = new Map<number, Map<string, AreaKpi>>();

  constructor(
    private readonly registry: Registry,
    private readonly period: KpiPeriod,
  ) {}

  add(siteId: string, k: KpiValue): void {
    const district = this.registry.site(siteId)?.district;
    const area = district === undefined ? undefined : this.area(k.windowStartMs, k.kpi, k.category);
    if (!area) return;
    area.city.add(k);
    this.district(area, district!).add(k);
  }

  /** What has been added so far (JSON-safe): a replica's share of the sites, for `merge` where the run ends. */
  partial(): AreaRollupPartial {
    return {
      period: this.period,
      windows: [...this.windows].map(([windowStartMs, kpis]) => ({
        windowStartMs,
        kpis: [...kpis.values()].map(({ kpi, category, city, districts }) => ({
          kpi,
          ...(category === undefined ? {} : { category }),
          city: city.partial(),
          districts: Object.fromEntries([...districts].map(([d, c]) => [d, c.partial()])),
        })),
      })),
    };
  }

  /** Takes in another share's partial (`partial()`) of the same period, as if its sites had been added here. */
  merge(other: AreaRollupPartial): void {
    if (other.period !== this.period)
      throw new Error(`a ${other.period} roll-up merged into a ${this.period} one`);
    for (const { windowStartMs, kpis } of other.windows)
      for (const { kpi, category, city, districts } of kpis) {
        const area = this.area(windowStartMs, kpi, category);
        if (!area) continue;
        area.city.merge(city);
        for (const [district, sums] of Object.entries(districts)) this.district(area, district).merge(sums);
      }
  }

  /** The combinations of a KPI (and category) in a window; none for a KPI that is not rolled up over sites. */
  private area(windowStartMs: number, kpi: string, category: string | undefined): AreaKpi | undefined {
    const aggregation = KPI_AGGREGATION[kpi];
    if (!aggregation || PER_DEVICE_KPIS.has(kpi)) return undefined;
    let kpis = this.windows.get(windowStartMs);
    if (!kpis) this.windows.set(windowStartMs, (kpis = new Map<string, AreaKpi>()));
    const key = category === undefined ? kpi : `${kpi}\u0000${category}`;
    let area = kpis.get(key);
    if (!area) {
      area = { kpi, aggregation, city: new KpiCombination(aggregation, 'entities'), districts: new Map() };
      if (category !== undefined) area.category = category;
      kpis.set(key, area);
    }
    return area;
  }

  private district(area: AreaKpi, district: string): KpiCombination {
    let combination = area.districts.get(district);
    if (!combination)
      area.districts.set(district, (combination = new KpiCombination(area.aggregation, 'entities')));
    return combination;
  }

  /** The `kpi` lines of every area and window added so far. */
  lines(): string[] {
    const out: string[] = [];
    for (const [windowStartMs, kpis] of this.windows)
      for (const { kpi, category, city, districts } of kpis.values()) {
        const line = (scope: KpiScope, entity: string, c: KpiCombination): number =>
          out.push(
            kpiLine(
              { kpi, ...(category === undefined ? {} : { category }), windowStartMs, ...c.result(0) },
              { scope, entity, period: this.period },
            ),
          );
        for (const [district, c] of districts) line('district', district, c);
        line('city', CITY_ENTITY, city);
      }
    return out;
  }
}

/** What a replica's share of a run's sites leaves with its lease: whose sums (its sites) and the sums. */
interface ShareResult {
  sites: string;
  rollups: AreaRollupPartial[];
}

/** A share's sites, as a short digest: shares cut from different registries (a change rolling out) differ. */
function sitesDigest(siteIds: readonly string[]): string {
  return createHash('sha256').update(siteIds.join('\n')).digest('base64url').slice(0, 22);
}

/** The result a share of `siteIds` leaves: its districts' and city's sums (`rollups`), with whose they are. */
export function shareResult(siteIds: readonly string[], rollups: Iterable<AreaRollup>): string {
  const result: ShareResult = { sites: sitesDigest(siteIds), rollups: [...rollups].map((r) => r.partial()) };
  return JSON.stringify(result);
}

/**
 * The recent windows' district and city roll-ups of a run written in `shares` (each a list of site ids), combined from
 * the sums each share left with its lease (`results`, by part). `read` when a share left none (one done by a replica
 * of an earlier version) or left the sums of other sites than this replica's registry puts in it (the registry
 * changed on one replica before another): the run then reads every site's values back instead.
 */
export function combineShares(
  registry: Registry,
  shares: readonly (readonly string[])[],
  results: ReadonlyMap<string, string>,
): AreaRollup[] | 'read' {
  const combined = new Map<KpiPeriod, AreaRollup>();
  for (const [i, share] of shares.entries()) {
    const text = results.get(`sites-${i}`);
    const result = text === undefined ? undefined : (JSON.parse(text) as Partial<ShareResult>);
    if (result?.sites !== sitesDigest(share) || !Array.isArray(result.rollups)) return 'read';
    for (const partial of result.rollups) {
      let rollup = combined.get(partial.period);
      if (!rollup) combined.set(partial.period, (rollup = new AreaRollup(registry, partial.period)));
      rollup.merge(partial);
    }
  }
  return [...combined.values()];
}

interface AreaKpi {
  kpi: string;
  category?: string;
  aggregation: KpiAggregation;
  city: KpiCombination;
  districts: Map<string, KpiCombination>;
}

/** An AreaRollup's sums so far, as one replica's share of the sites leaves them for the run's last part. */
export interface AreaRollupPartial {
  period: KpiPeriod;
  windows: {
    windowStartMs: number;
    kpis: {
      kpi: string;
      category?: string;
      city: KpiCombinationSums;
      districts: Record<string, KpiCombinationSums>;
    }[];
  }[];
}
