import { createHash } from 'node:crypto';
import { forSite, kpiFactorsFor, periodEnergy, readQuarters, utcOffsetMs } from '@peakwatch/metering';
import { METRICS, type MetricName, PeakWatchError } from '@peakwatch/contracts';
import {
  comprehensiveEnergyKgce,
  electricityCo2LocationT,
  electricityCo2MarketT,
  gasCo2T,
  GJ_PER_MJ,
  heatCo2T,
  KWH_PER_CERTIFICATE,
  MJ_PER_KWH,
} from '@peakwatch/domain';
import type { InfluxClient } from '@peakwatch/influx';
import type { Factor, PolicyData } from '@peakwatch/policy';
import type { DeclaredInputs, GreenPower } from '@peakwatch/state';
import { expectedReadings, type Registry, type Site } from '@peakwatch/registry';

export const REPORT_SCHEMA = 'peakwatch-report/1';

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
  carrier:
    | 'grid_electricity'
    | 'onsite_pv'
    | 'green_certificates'
    | 'green_power_contracts'
    | 'natural_gas'
    | 'purchased_heat';
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
  energy: {
    carriers: CarrierLine[];
    exportedKwh: number;
    consumedElectricityKwh: number;
    totalTce: number;
    /** The green power declared, each purchase with its evidence (certificates without evidence: `greenCertificates`). */
    greenPower: GreenPower[];
  };
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

export class UnknownOrganisationError extends PeakWatchError {
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
  inputs?: DeclaredInputs;
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
  // green power declared (every purchase was checked to be the organisation's or one of its sites'), by kind
  const greenPower = inputs.greenPower ?? [];
  const kwhOf = (kind: GreenPower['kind']): number =>
    greenPower.filter((g) => g.kind === kind).reduce((kwh, g) => kwh + g.mwh * 1000, 0);
  const certificateKwh = (inputs.greenCertificates ?? 0) * KWH_PER_CERTIFICATE + kwhOf('certificate');
  const contractKwh = kwhOf('contract');
  const greenKwh = certificateKwh + contractKwh;
  // metered district heat, and what the organisation declares for sites without a heat meter
  const heatKwh = sum(['heat_purchased'], 'heat_kwh') + (inputs.purchasedHeatKwh ?? 0);
  // the factors published by the period's last day: a factor published later never restates this period
  const asOf = new Date(toMs - 1 + offset).toISOString().slice(0, 10);
  const factor = (query: { kind: string; year?: number; method?: string }) =>
    policy.factor({ region: 'cn', asOf, ...query });
  const heatFactor = factor({ kind: 'purchased_heat' });
  const factors = kpiFactorsFor(policy, year, asOf);
  // gas by site: a site may declare its supplier's heating value (its own coal equivalent and CO2 factor)
  const gasBySite = sites.map((site) => {
    const m3 = meters
      .filter((m) => m.siteId === site.id && m.role === 'gas' && m.metric === 'gas_m3')
      .reduce((s, m) => s + m.quantity, 0);
    const own = forSite(site, factors);
    return {
      m3,
      kgce: m3 * own.coal.gasKgcePerM3,
      co2T: gasCo2T({ gasM3: m3, factorKgPerM3: own.gasKgCo2PerM3 }),
    };
  });
  const gasM3 = gasBySite.reduce((s, g) => s + g.m3, 0);
  const gasKgce = gasBySite.reduce((s, g) => s + g.kgce, 0);
  const residual = factor({ kind: 'electricity_residual', year });
  const used = [
    factor({ kind: 'electricity_grid', year }),
    residual,
    factor({ kind: 'natural_gas' }),
    factor({ kind: 'coal_equivalent_electricity', method: 'calorific' }),
    factor({ kind: 'coal_equivalent_gas' }),
    ...(sites.some((site) => site.gasHeatingValueKjPerM3 !== undefined)
      ? [factor({ kind: 'natural_gas_ncv' })]
      : []),
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
      quantity: round(certificateKwh),
      tce: tce(certificateKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'green_power_contracts',
      unit: 'kWh',
      quantity: round(contractKwh),
      tce: tce(contractKwh, factors.coal.electricityKgcePerKwh),
    },
    {
      carrier: 'natural_gas',
      unit: 'm3',
      quantity: round(gasM3),
      tce: round(gasKgce / 1000, 4),
    },
    {
      carrier: 'purchased_heat',
      unit: 'kWh',
      quantity: round(heatKwh),
      tce: tce(heatKwh, factors.coal.heatKgcePerKwh),
    },
  ];
  const consumedElectricityKwh = gridKwh - exportedKwh + pvKwh;
  // comprehensive energy: electricity and heat at the coal equivalents, gas at each site's (gasKgce)
  const totalTce = round(
    (comprehensiveEnergyKgce({
      electricityKwh: consumedElectricityKwh,
      gasM3: 0,
      heatKwh,
      coefficients: factors.coal,
    }) +
      gasKgce) /
      1000,
    4,
  );
  // net purchased electricity: exports deducted at the grid factor (GB/T 32150; docs/domain.md, "CO2")
  const location = electricityCo2LocationT({
    importKwh: gridKwh,
    exportKwh: exportedKwh,
    factorKgPerKwh: factors.gridKgCo2PerKwh,
  });
  // market-based: green power bought at zero, the rest at the residual factor (the grid's where none is published)
  const market = electricityCo2MarketT({
    gridKwh: gridKwh - exportedKwh,
    greenPowerKwh: greenKwh,
    residualFactorKgPerKwh: residual?.value ?? factors.gridKgCo2PerKwh,
  });
  const direct = gasBySite.reduce((s, g) => s + g.co2T, 0);
  // purchased heat: kWh → GJ at the purchased-heat default
  const heat = heatCo2T({ heatGj: heatKwh * MJ_PER_KWH * GJ_PER_MJ, factorTPerGj: factors.heatTCo2PerGj });
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
      greenPower,
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
