import { createHash } from 'node:crypto';
import { kpiFactorsFor, periodEnergy, readQuarters, utcOffsetMs } from '@peakwatch/analytics';
import { METRICS, type MetricName } from '@peakwatch/contracts';
import {
  electricityCo2LocationT,
  electricityCo2MarketT,
  gasCo2T,
  heatCo2T,
  KWH_PER_CERTIFICATE,
  MJ_PER_KWH,
} from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import { z } from 'zod';
import type { Factor, PolicyData } from '@peakwatch/policy';
import { expectedReadings, type Registry, type Site } from '@peakwatch/registry';

export const REPORT_SCHEMA = 'peakwatch-report/1';

/** What an organisation declares for a period beside its meters (API: PUT /api/v1/reports/{org}/{period}/inputs). */
export const reportInputsSchema = z
  .object({
    /** Green electricity certificates (绿证) surrendered for the period; 1 certificate = 1,000 kWh. */
    greenCertificates: z.number().int().nonnegative().optional(),
    /** Heat bought from a district network (kWh). */
    purchasedHeatKwh: z.number().nonnegative().optional(),
    /** The organisation's output, for the intensity per unit of output. */
    output: z
      .object({ quantity: z.number().positive(), unit: z.string().min(1).max(64) })
      .strict()
      .optional(),
  })
  .strict();
export type ReportInputs = z.infer<typeof reportInputsSchema>;
export type ReportKind = 'monthly' | 'annual';

/** One meter's register energy over the period, with how complete its readings were. */
export interface MeterLine {
  siteId: string;
  deviceId: string;
  role: string;
  metric: MetricName;
  unit: string;
  quantity: number;
  estimated: boolean;
  readingsReceived: number;
  readingsExpected: number;
  completeness: number;
}

export interface CarrierLine {
  carrier: 'grid_electricity' | 'onsite_pv' | 'green_certificates' | 'natural_gas' | 'purchased_heat';
  unit: 'kWh' | 'm3';
  quantity: number;
  tce: number;
}

/** The report (JSON schema `peakwatch-report/1`, documented in docs/reports.md). */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  kind: ReportKind;
  organisation: { id: string; name: string; keyEmitter: boolean };
  period: { label: string; from: string; to: string; timeZone: string };
  boundary: { siteId: string; name: string; district: string; type: string; floorAreaM2: number }[];
  energy: { carriers: CarrierLine[]; exportedKwh: number; consumedElectricityKwh: number; totalTce: number };
  emissions: {
    directT: number;
    indirectElectricityLocationT: number;
    indirectElectricityMarketT: number;
    heatT: number;
    totalLocationT: number;
    totalMarketT: number;
  };
  intensities: {
    energyKwhPerM2: number | null;
    co2KgPerM2: number | null;
    floorAreaM2: number;
    /** Per unit of the declared output: tce and tonnes CO2 (location-based). */
    perOutput?: { unit: string; quantity: number; tcePerUnit: number; co2TPerUnit: number };
  };
  factors: { id: string; kind: string; year?: number; value: number; unit: string; source: string }[];
  meters: MeterLine[];
  completeness: number;
  gapTreatment: string;
  contentHash: string;
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The period of `2026-10` (monthly) or `2026` (annual) in the reporting zone; throws naming a malformed period. */
export function reportPeriod(
  label: string,
  timeZone: string,
): { kind: ReportKind; fromMs: number; toMs: number; year: number } {
  const monthly = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(label);
  const annual = /^(\d{4})$/.exec(label);
  if (!monthly && !annual) throw new RangeError(`period ${JSON.stringify(label)}: expected YYYY-MM or YYYY`);
  const year = Number((monthly ?? annual)![1]);
  const month = monthly ? Number(monthly[2]) - 1 : 0;
  const local = (y: number, m: number): number => {
    const utc = Date.UTC(y, m, 1);
    return utc - utcOffsetMs(timeZone, utc);
  };
  return monthly
    ? { kind: 'monthly', fromMs: local(year, month), toMs: local(year, month + 1), year }
    : { kind: 'annual', fromMs: local(year, 0), toMs: local(year + 1, 0), year };
}

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

export class UnknownOrganisationError extends Error {
  readonly code = 'unknown_organisation';
}

/**
 * Builds an emitter's energy and emissions report for a month or a year from the meters' registers in InfluxDB, with
 * the analytics' register rules (wraps, replacements, gaps booked as estimated), the carriers in physical units and in
 * tce, location- and market-based emissions, and the factors used. Every figure is traceable to the meter lines.
 */
export async function buildReport({
  influx,
  registry,
  policy,
  orgId,
  period,
  timeZone,
  inputs = {},
}: {
  influx: InfluxClient;
  registry: Registry;
  policy: PolicyData;
  orgId: string;
  period: string;
  timeZone: string;
  inputs?: ReportInputs;
}): Promise<Report> {
  const { kind, fromMs, toMs, year } = reportPeriod(period, timeZone);
  const sites = boundaryOf(registry, orgId);
  const offset = utcOffsetMs(timeZone, fromMs);
  const meters: MeterLine[] = [];
  for (const site of sites) {
    // a site's meters in one read (registers and meter events), booked into the period's days
    for (const quarters of await readQuarters(influx, site.devices, fromMs, toMs)) {
      const { device } = quarters;
      const energy = periodEnergy(quarters, '1d', fromMs, toMs, offset);
      const received = [...energy.readingsByWindow.values()].reduce((a, b) => a + b, 0);
      const expected = expectedReadings(device, fromMs, toMs);
      for (const [metric, windows] of energy.windows) {
        let quantity = 0;
        let estimated = false;
        for (const w of windows.values()) {
          quantity += w.energy;
          estimated ||= w.estimated;
        }
        meters.push({
          siteId: site.id,
          deviceId: device.id,
          role: device.role,
          metric,
          unit: METRICS[metric].unit,
          quantity: round(quantity),
          estimated,
          readingsReceived: received,
          readingsExpected: expected,
          completeness: expected > 0 ? round(Math.min(1, received / expected), 4) : 1,
        });
      }
    }
  }
  const sum = (roles: string[], metric: MetricName): number =>
    meters.filter((m) => roles.includes(m.role) && m.metric === metric).reduce((s, m) => s + m.quantity, 0);
  const gridKwh = sum(['grid', 'dc_total'], 'energy_import_kwh');
  const exportedKwh = sum(['grid'], 'energy_export_kwh');
  const pvKwh = sum(['pv'], 'energy_export_kwh');
  const gasM3 = sum(['gas'], 'gas_m3');
  const certificates = inputs.greenCertificates ?? 0;
  const heatKwh = inputs.purchasedHeatKwh ?? 0;
  // the factors published by the period's last day: a factor published later never restates this period
  const asOf = new Date(toMs - 1 + offset).toISOString().slice(0, 10);
  const factor = (query: { kind: string; year?: number; method?: string }) =>
    policy.factor({ region: 'cn', asOf, ...query });
  const heatFactor = factor({ kind: 'purchased_heat' });
  const factors = kpiFactorsFor(policy, year, 'calorific', asOf);
  const residual = factor({ kind: 'electricity_residual', year });
  const used = [
    factor({ kind: 'electricity_grid', year }),
    residual,
    factor({ kind: 'natural_gas' }),
    factor({ kind: 'coal_equivalent_electricity', method: 'calorific' }),
    factor({ kind: 'coal_equivalent_gas' }),
    ...(heatKwh > 0 ? [heatFactor] : []),
  ].filter((f): f is Factor => f !== undefined);
  const tce = (kwhOrM3: number, kgcePer: number): number => round((kwhOrM3 * kgcePer) / 1000, 4);
  const carriers: CarrierLine[] = [
    {
      carrier: 'grid_electricity',
      unit: 'kWh',
      quantity: round(gridKwh),
      tce: tce(gridKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'onsite_pv',
      unit: 'kWh',
      quantity: round(pvKwh),
      tce: tce(pvKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'green_certificates',
      unit: 'kWh',
      quantity: certificates * KWH_PER_CERTIFICATE,
      tce: tce(certificates * KWH_PER_CERTIFICATE, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'natural_gas',
      unit: 'm3',
      quantity: round(gasM3),
      tce: tce(gasM3, factors.coal.gasKgcePerM3),
    },
    {
      carrier: 'purchased_heat',
      unit: 'kWh',
      quantity: round(heatKwh),
      tce: tce(heatKwh, factors.coal.heatKgcePerKwh),
    },
  ];
  const consumedElectricityKwh = gridKwh - exportedKwh + pvKwh;
  const totalTce = round(
    tce(consumedElectricityKwh, factors.coal.electricityKgcePerKwh) +
      tce(gasM3, factors.coal.gasKgcePerM3) +
      tce(heatKwh, factors.coal.heatKgcePerKwh),
    4,
  );
  const location = electricityCo2LocationT({ gridKwh, factorKgPerKwh: factors.gridKgCo2PerKwh });
  // market-based: certificate-backed power at zero, the rest at the residual factor (the grid's where none is published)
  const market = electricityCo2MarketT({
    gridKwh,
    certificates,
    residualFactorKgPerKwh: residual?.value ?? factors.gridKgCo2PerKwh,
  });
  const direct = gasCo2T({ gasM3, factorKgPerM3: factors.gasKgCo2PerM3 });
  // purchased heat: kWh → GJ at the purchased-heat default
  const heat =
    heatKwh > 0 && heatFactor
      ? heatCo2T({ heatGj: (heatKwh * MJ_PER_KWH) / 1000, factorTPerGj: heatFactor.value })
      : 0;
  const totalLocation = direct + location + heat;
  const area = sites.reduce((s, site) => s + site.floorAreaM2, 0);
  const received = meters.reduce((s, m) => s + m.readingsReceived, 0);
  const expected = meters.reduce((s, m) => s + m.readingsExpected, 0);
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
    energy: {
      carriers,
      exportedKwh: round(exportedKwh),
      consumedElectricityKwh: round(consumedElectricityKwh),
      totalTce,
    },
    emissions: {
      directT: round(direct, 4),
      indirectElectricityLocationT: round(location, 4),
      indirectElectricityMarketT: round(market, 4),
      heatT: round(heat, 4),
      totalLocationT: round(totalLocation, 4),
      totalMarketT: round(direct + market + heat, 4),
    },
    intensities: {
      energyKwhPerM2: area > 0 ? round(consumedElectricityKwh / area, 4) : null,
      co2KgPerM2: area > 0 ? round((totalLocation * 1000) / area, 4) : null,
      floorAreaM2: area,
      ...(inputs.output && inputs.output.quantity > 0
        ? {
            perOutput: {
              unit: inputs.output.unit,
              quantity: inputs.output.quantity,
              tcePerUnit: round(totalTce / inputs.output.quantity, 6),
              co2TPerUnit: round(totalLocation / inputs.output.quantity, 6),
            },
          }
        : {}),
    },
    factors: used.map((f) => ({
      id: f.id,
      kind: f.kind,
      ...(f.year !== undefined ? { year: f.year } : {}),
      value: f.value,
      unit: f.unit,
      source: f.source,
    })),
    meters,
    completeness: expected > 0 ? round(Math.min(1, received / expected), 4) : 0,
    gapTreatment:
      'Energy is the difference of register readings; a gap is never interpolated: the energy across it is booked ' +
      'whole at the reading that ends it and marked estimated. Meters with estimated energy are flagged per line.',
  };
  return { ...body, contentHash: contentHash(body) };
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

/** The CSV: one line per meter and metric of the period. */
export function reportCsv(report: Report): string {
  const header =
    'period,site,device,role,metric,unit,quantity,estimated,readings_received,readings_expected,completeness';
  const lines = report.meters.map((m) =>
    [
      report.period.label,
      m.siteId,
      m.deviceId,
      m.role,
      m.metric,
      m.unit,
      m.quantity,
      m.estimated,
      m.readingsReceived,
      m.readingsExpected,
      m.completeness,
    ].join(','),
  );
  return `${[header, ...lines].join('\n')}\n`;
}
