import { createHash } from 'node:crypto';
import { PeakWatchError } from '@peakwatch/contracts';
import type { InfluxClient } from '@peakwatch/influx';
import { utcOffsetMs } from '@peakwatch/metering';
import { PolicyData, type Factor, type Threshold } from '@peakwatch/policy';
import type { Registry, Site } from '@peakwatch/registry';
import type { DeclaredInputs } from '@peakwatch/state';
import { reportFigures } from './report-figures';
import { meterLines, readReportRows, type SiteMeterRows } from './report-meters';
import { positionOf, type CarbonMarketSource } from './carbon-position';
import { reportPeriod } from './report-period';
import { REPORT_SCHEMA, evidenceLayout, type Report } from './report-schema';

export { reportPeriod } from './report-period';

/** Sites of an organisation (its reporting boundary); throws naming an unknown organisation. */
export function boundaryOf(registry: Registry, orgId: string): Site[] {
  const sites = registry.sites.filter((s) => s.emitter?.id === orgId);
  if (sites.length === 0) {
    const known = [...new Set(registry.sites.flatMap((s) => (s.emitter ? [s.emitter.id] : [])))];
    throw new UnknownOrganisationError(
      `unknown organisation ${JSON.stringify(orgId)}; the registry has ${known.join(', ') || 'none'}`,
    );
  }
  return sites;
}

export class UnknownOrganisationError extends PeakWatchError {
  readonly code = 'unknown_organisation';
}

/** Everything a report is computed from: what its evidence bundle holds (docs/reports.md, "Evidence bundle"). */
export interface ReportSources {
  /** The organisation's sites (its boundary), as in the registry. */
  sites: readonly Site[];
  /** The rows of each of their meters, as stored, in the order of the sites and their devices. */
  meters: readonly SiteMeterRows[];
  /** What the organisation declared for the period (green power, purchased heat, output). */
  inputs: DeclaredInputs;
  /** The emission factors, coal equivalents and thresholds the figures may pick from (seeds). */
  factors: readonly Factor[];
  thresholds: readonly Threshold[];
  /** A monthly report's carbon-market inputs, when an allowance is declared for its year (carbon-position.ts). */
  carbonMarket?: CarbonMarketSource | undefined;
}

/**
 * Reads what an emitter's report for a month or a year is computed from: its boundary from the registry, the rows of
 * its meters from InfluxDB, the policy's factors, and the declarations given.
 */
export async function readReportSources({
  influx,
  registry,
  policy,
  orgId,
  period,
  timeZone,
  inputs = {},
  carbonMarket,
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  orgId: string;
  period: string;
  timeZone: string;
  inputs?: DeclaredInputs;
  carbonMarket?: CarbonMarketSource | undefined;
}): Promise<ReportSources> {
  const { fromMs, toMs } = reportPeriod(period, timeZone);
  const sites = boundaryOf(registry, orgId);
  const meters = await readReportRows(influx, sites, fromMs, toMs);
  return {
    sites,
    meters,
    inputs,
    factors: policy.factors,
    thresholds: policy.thresholds,
    ...(carbonMarket ? { carbonMarket } : {}),
  };
}

/**
 * An emitter's energy and emissions report for a month or a year, from its sources alone (no I/O): the meter lines
 * (each meter's register energy, meterLines), the figures (carriers, emissions, intensities, factors: reportFigures),
 * the hash of the evidence the sources make up (`evidenceSha256`), and the hash of the whole. Every figure is traceable
 * to the meter lines, and each of those to its meter's rows.
 */
export function computeReport({
  sources,
  period,
  timeZone,
  evidenceSha256,
}: {
  sources: ReportSources;
  period: string;
  timeZone: string;
  evidenceSha256: string;
}): Report {
  const { kind, fromMs, toMs, year } = reportPeriod(period, timeZone);
  const { sites, inputs } = sources;
  const offset = utcOffsetMs(timeZone, fromMs);
  const meters = meterLines(sources.meters, fromMs, toMs, offset);
  // the factors published by the period's last day: a factor published later never restates this period
  const asOf = new Date(toMs - 1 + offset).toISOString().slice(0, 10);
  const { energy, emissions, intensities, factors, completeness } = reportFigures({
    meters,
    sites,
    inputs,
    policy: new PolicyData(sources.factors, sources.thresholds),
    year,
    asOf,
  });
  const emitter = sites[0]!.emitter!;
  const body: Omit<Report, 'contentHash'> = {
    schema: REPORT_SCHEMA,
    kind,
    organisation: { id: emitter.id, name: emitter.name, keyEmitter: emitter.keyEmitter },
    period: {
      label: period,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      timeZone,
    },
    boundary: sites.map((s) => ({
      siteId: s.id,
      name: s.name,
      district: s.district,
      type: s.type,
      floorAreaM2: s.floorAreaM2,
    })),
    energy,
    emissions,
    intensities,
    factors,
    meters,
    completeness,
    gapTreatment:
      'Energy is the difference of register readings; a gap is never interpolated: the energy across it is booked ' +
      'whole at the reading that ends it and marked estimated. Meters with estimated energy are flagged per line.',
    ...(sources.carbonMarket && kind === 'monthly'
      ? { carbonMarket: carbonMarketSection(sources.carbonMarket, period, year, emissions.totalLocationT) }
      : {}),
    evidence: { layout: evidenceLayout(sources.meters), sha256: evidenceSha256 },
  };
  return { ...body, contentHash: contentHash(body) };
}

/** A monthly report's carbon-market section: the allowance, and the position with this month counted. */
function carbonMarketSection(
  source: CarbonMarketSource,
  period: string,
  year: number,
  monthT: number,
): NonNullable<Report['carbonMarket']> {
  const { version, ...allowance } = source.allowance;
  return {
    ...allowance,
    allowanceVersion: version,
    ...positionOf({
      year,
      allowance: source.allowance,
      months: [...source.months, { period, tCo2: monthT }],
      previousYear: source.previousYear,
    }),
  };
}

/** SHA-256 of the report's canonical JSON (keys sorted), without the hash itself. */
export function contentHash(body: object): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([k]) => k !== 'contentHash')
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)))
    .digest('hex');
}
