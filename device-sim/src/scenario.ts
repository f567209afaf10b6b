import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  DataFileError,
  displayPath,
  loadRegistry,
  readYamlFile,
  type Device,
  type FileProblem,
  type Site,
} from '@peakwatch/registry';
import type { TariffVersion, TouDivision } from '@peakwatch/domain';
import { loadTariffs } from '@peakwatch/policy';
import { BEIJING_CLIMATE, type ClimateModel } from './models/weather';
import type { SubmeterCategory } from './models/office';
import { DEFAULT_PV, type PvModel } from './models/pv';
import { DEFAULT_DATA_CENTRE, type DataCentreModel } from './models/data-centre';
import { DEFAULT_HEAT_PUMP, type HeatPumpModel } from './models/heat-pump';
import type { GasModel } from './models/gas';
import { DEFAULT_DISTRICT_HEAT, type DistrictHeatModel } from './models/district-heat';
import type { Location } from './models/solar';

/** `+2d10h30m` (an offset from the run's start) or an RFC 3339 timestamp. */
const OFFSET = /^\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/;
const when = z.string().refine((s) => OFFSET.test(s) || !Number.isNaN(Date.parse(s)), {
  message: 'expected an offset like +2d10h or an RFC 3339 timestamp',
});
const positive = z.number().positive();
const minutes = z.number().int().positive();
const deviceRef = z.string().min(1);

/** A share (0..1) of some sub-metering categories' load: what an office sheds. */
const share = z.number().min(0).max(1);
const categoryShares = z
  .object({ lighting_sockets: share, hvac: share, power: share, special: share })
  .partial()
  .strict();

const faultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('gap'), device: deviceRef, at: when, durationMinutes: minutes }).strict(),
  z.object({ type: z.literal('offline'), device: deviceRef, at: when, durationMinutes: minutes }).strict(),
  z
    .object({ type: z.literal('duplicates'), device: deviceRef, probability: z.number().min(0).max(1) })
    .strict(),
  z
    .object({ type: z.literal('out_of_order'), device: deviceRef, at: when, durationMinutes: minutes })
    .strict(),
  z
    .object({
      type: z.literal('late_batch'),
      device: deviceRef,
      at: when,
      durationMinutes: minutes,
      delayMinutes: minutes,
    })
    .strict(),
  z
    .object({
      type: z.literal('meter_replacement'),
      device: deviceRef,
      at: when,
      startKwh: z.number().min(0).default(0),
    })
    .strict(),
  z.object({ type: z.literal('spike'), device: deviceRef, at: when, factor: positive }).strict(),
  z
    .object({
      type: z.literal('clock_skew'),
      device: deviceRef,
      at: when,
      durationMinutes: minutes,
      skewSeconds: z.number().int(),
    })
    .strict(),
  z
    .object({
      type: z.literal('malformed'),
      device: deviceRef,
      at: when,
      count: z.number().int().positive().default(1),
    })
    .strict(),
  z.object({ type: z.literal('wrong_credentials'), device: deviceRef, at: when }).strict(),
  /** Readings lost at random with this probability (the register keeps counting): a lossy link. */
  z.object({ type: z.literal('loss'), device: deviceRef, probability: z.number().min(0).max(1) }).strict(),
]);

const factor = z
  .object({ value: positive, source: z.string().min(1), year: z.number().int().optional() })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    description: z.string().optional(),
    /** Registry folder, relative to the scenario file (default ../sites). */
    sitesDir: z.string().default('../sites'),
    sites: z.array(z.string()).min(1),
    location: z
      .object({
        latitudeDeg: z.number().min(-90).max(90),
        longitudeDeg: z.number().min(-180).max(180),
        utcOffsetHours: z.number(),
      })
      .strict(),
    /** Seconds between two readings of a device; a divisor of 900 so readings fall on 15-minute boundaries. */
    intervalSeconds: z
      .number()
      .int()
      .positive()
      .refine((s) => 900 % s === 0, { message: 'must divide 900 (15 minutes)' })
      .default(300),
    /** Readings per message when publishing history (backfill, catch-up). */
    batchSize: z.number().int().min(1).max(1000).default(12),
    climate: z
      .object({
        annualMeanC: z.number(),
        annualAmplitudeC: z.number(),
        coldestDayOfYear: z.number(),
        diurnalAmplitudeC: z.number(),
        dayToDayStdC: z.number().min(0),
        cloudWinter: z.number().min(0).max(1),
        cloudSummer: z.number().min(0).max(1),
        aerosolTransmittance: z.number().min(0.1).max(1),
      })
      .partial()
      .strict()
      .default({}),
    emissionFactors: z
      .object({
        gridKgCo2PerKwh: factor,
        gasKgCo2PerM3: factor,
        heatTCo2PerGj: factor,
        /**
         * The grid factor of a baseline year (key: the year), where it differs: CO2 compared with a site's carbon
         * baseline is stated at its baseline year's factors (one factor for both years).
         */
        baselineGridKgCo2PerKwh: z.record(z.string().regex(/^\d{4}$/), factor).optional(),
      })
      .strict(),
    /**
     * What the ground truth states the renewable share with (in tce): coal equivalents of electricity, gas and heat,
     * and the least seasonal performance factor at which a heat pump's ambient heat counts as renewable.
     */
    renewableAccounting: z
      .object({
        electricityKgcePerKwh: positive,
        /** Electricity by the generation method (发电煤耗法), for the share the plans' targets count. */
        electricityKgcePerKwhGeneration: positive,
        gasKgcePerM3: positive,
        heatKgcePerKwh: positive,
        heatPumpMinSpf: positive,
        source: z.string().min(1),
      })
      .strict(),
    offices: z.record(z.string(), z.object({ loadScale: positive.default(1) }).strict()).default({}),
    pv: z
      .record(
        z.string(),
        z
          .object({
            derating: positive,
            inverterEfficiency: positive,
            tempCoeffPerK: z.number(),
            noctC: z.number(),
          })
          .partial()
          .strict(),
      )
      .default({}),
    dataCentres: z
      .record(
        z.string(),
        z
          .object({
            itLoadKw: positive,
            dailyAmplitude: z.number().min(0).max(0.5).optional(),
            pueLow: z.number().min(1).optional(),
            pueHigh: z.number().min(1).optional(),
            coolTempC: z.number().optional(),
            warmTempC: z.number().optional(),
            /** A plant degrading: PUE rises by `puePerDay` a day from `since` (+1d12h, or a time), up to `upTo`. */
            drift: z
              .object({ since: when, puePerDay: z.number(), upTo: z.number().min(1).optional() })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .default({}),
    heatPumps: z
      .record(
        z.string(),
        z
          .object({
            heatLossKwPerK: positive,
            ratedHeatKw: positive,
            carnotEfficiency: z.number().min(0.1).max(0.7).optional(),
            balanceTempC: z.number().optional(),
          })
          .strict(),
      )
      .default({}),
    gas: z
      .record(
        z.string(),
        z.object({ baseM3PerHour: z.number().min(0), mealM3PerHour: z.number().min(0) }).strict(),
      )
      .default({}),
    /** Heat meters of buildings on a district network (role heat_purchased). */
    districtHeat: z
      .record(
        z.string(),
        z.object({ heatLossKwPerK: positive, balanceTempC: z.number().optional() }).strict(),
      )
      .default({}),
    /** Register values at the start of the run, per device and metric (e.g. near the modulus to show a wrap). */
    initialRegisters: z.record(z.string(), z.record(z.string(), z.number().min(0))).default({}),
    faults: z.array(faultSchema).default([]),
    /**
     * Demand-response events the offices answer: over [at, at + durationMinutes) each listed site sheds the given
     * share of each sub-metering category's load (docs/domain.md, "Demand response"); the ground truth states the
     * reduction of its grid imports this delivers, against the same load without the event.
     */
    demandResponse: z
      .array(
        z
          .object({
            sites: z.array(z.string()).min(1),
            at: when,
            durationMinutes: minutes,
            shed: categoryShares,
          })
          .strict(),
      )
      .default([]),
    /**
     * Offices that answer their time-of-use tariff (the site's `tariff` in the registry, from `tariffsDir`): in the
     * critical and peak bands they shed the given share of each category's load, and draw the energy shed in the next
     * valley band, spread evenly over it (docs/domain.md, "Demand response"). The ground truth states the kWh moved.
     */
    priceResponse: z
      .array(
        z
          .object({
            sites: z.array(z.string()).min(1),
            shift: categoryShares,
          })
          .strict(),
      )
      .default([]),
    /** The tariff files of the price-responsive sites, relative to the scenario file (default ../tariffs). */
    tariffsDir: z.string().default('../tariffs'),
  })
  .strict();

export type ScenarioFile = z.infer<typeof scenarioSchema>;
export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];

/** A scenario with its registry resolved and every model's parameters complete. */
export interface Scenario {
  file: string;
  name: string;
  location: Location;
  intervalSeconds: number;
  batchSize: number;
  climate: ClimateModel;
  emissionFactors: ScenarioFile['emissionFactors'];
  renewableAccounting: ScenarioFile['renewableAccounting'];
  sites: Site[];
  offices: Map<string, { loadScale: number }>;
  pv: Map<string, PvModel>;
  dataCentres: Map<string, DataCentreModel>;
  heatPumps: Map<string, HeatPumpModel>;
  gas: Map<string, GasModel>;
  districtHeat: Map<string, DistrictHeatModel>;
  initialRegisters: Record<string, Record<string, number>>;
  faults: Fault[];
  demandResponse: DemandResponseEvent[];
  /** Per price-responsive site: the shares it sheds in the peak bands, and its tariff's divisions and prices. */
  priceResponse: Map<string, PriceResponse>;
}

/** A site that answers its time-of-use tariff (scenario `priceResponse`). */
export interface PriceResponse {
  shift: Partial<Record<SubmeterCategory, number>>;
  divisions: readonly TouDivision[];
  versions: readonly TariffVersion[];
}

/** A demand-response event the simulated offices answer (scenario `demandResponse`). */
export type DemandResponseEvent = ScenarioFile['demandResponse'][number];

/**
 * The scenario with its faults and the data centres' drifts, where given as offsets, taken from `anchorMs` instead
 * of the run's start: a run that begins earlier (the demo's month of history) keeps them where they were meant to be,
 * the last days before now.
 */
export function anchoredAt(scenario: Scenario, anchorMs: number): Scenario {
  const at = (when: string): string => new Date(faultTime(when, anchorMs)).toISOString();
  return {
    ...scenario,
    faults: scenario.faults.map((f) => ('at' in f ? { ...f, at: at(f.at) } : f)),
    dataCentres: new Map(
      [...scenario.dataCentres].map(([id, dc]) => [
        id,
        dc.drift ? { ...dc, drift: { ...dc.drift, since: at(dc.drift.since) } } : dc,
      ]),
    ),
  };
}

/** Resolves a fault time: an offset from the run's start, or an absolute timestamp. */
export function faultTime(at: string, runStartMs: number): number {
  const m = OFFSET.exec(at);
  if (!m) return Date.parse(at);
  const [d, h, min] = [m[1], m[2], m[3]].map((v) => Number(v ?? 0)) as [number, number, number];
  return runStartMs + ((d * 24 + h) * 60 + min) * 60_000;
}

/**
 * Loads and checks a scenario file and the registry it names. Throws {@link DataFileError} naming the file, the path
 * inside it and the problem, for every problem found.
 */
export function loadScenario(file: string): Scenario {
  const parsed = readYamlFile(file, scenarioSchema);
  if (!parsed.ok) throw new DataFileError(parsed.problems);
  const s = parsed.value;
  const registry = loadRegistry(resolve(dirname(file), s.sitesDir));
  const problems: FileProblem[] = [];
  const shown = displayPath(file);
  const problem = (path: string, text: string): void => {
    problems.push({ file: shown, path, problem: text });
  };

  const sites: Site[] = [];
  s.sites.forEach((id, i) => {
    const site = registry.site(id);
    if (site) sites.push(site);
    else problem(`sites[${i}]`, `unknown site "${id}" (not in ${s.sitesDir})`);
  });
  const devices = new Map<string, { site: Site; device: Device }>();
  for (const site of sites) for (const device of site.devices) devices.set(device.id, { site, device });
  const siteIds = new Set(sites.map((site) => site.id));

  const offices = new Map<string, { loadScale: number }>();
  for (const site of sites) {
    if (site.type === 'data_centre') continue;
    offices.set(site.id, { loadScale: s.offices[site.id]?.loadScale ?? 1 });
  }
  for (const key of Object.keys(s.offices))
    if (!siteIds.has(key)) problem(`offices.${key}`, 'not a site of this scenario');

  const pv = new Map<string, PvModel>();
  const dataCentres = new Map<string, DataCentreModel>();
  const heatPumps = new Map<string, HeatPumpModel>();
  const gas = new Map<string, GasModel>();
  const districtHeat = new Map<string, DistrictHeatModel>();
  for (const { site, device } of devices.values()) {
    if (device.role === 'heat_purchased') {
      const h = s.districtHeat[device.id];
      if (h) districtHeat.set(device.id, { ...DEFAULT_DISTRICT_HEAT, ...h });
      else problem('districtHeat', `needs an entry for heat meter ${device.id}`);
    }
    if (device.role === 'pv')
      pv.set(device.id, { ...DEFAULT_PV, ...s.pv[device.id], peakPowerKwp: device.peakPowerKwp ?? 0 });
    if (device.role === 'hp') {
      const hp = s.heatPumps[device.id];
      if (hp) heatPumps.set(device.id, { ...DEFAULT_HEAT_PUMP, ...hp });
      else problem('heatPumps', `needs an entry for heat pump ${device.id}`);
    }
    if (device.role === 'gas') {
      const g = s.gas[device.id];
      if (g) gas.set(device.id, g);
      else problem('gas', `needs an entry for gas meter ${device.id}`);
    }
    if (device.role === 'dc_total' && !dataCentres.has(site.id)) {
      const dc = s.dataCentres[site.id];
      if (dc) {
        const model: DataCentreModel = { ...DEFAULT_DATA_CENTRE, ...dc };
        if (model.pueHigh < model.pueLow)
          problem(`dataCentres.${site.id}.pueHigh`, 'must not be below pueLow');
        dataCentres.set(site.id, model);
      } else problem('dataCentres', `needs an entry for data centre ${site.id}`);
    }
  }
  for (const [section, entries] of [
    ['pv', s.pv],
    ['heatPumps', s.heatPumps],
    ['gas', s.gas],
    ['districtHeat', s.districtHeat],
    ['initialRegisters', s.initialRegisters],
  ] as const) {
    for (const key of Object.keys(entries))
      if (!devices.has(key)) problem(`${section}.${key}`, 'not a device of this scenario');
  }
  for (const key of Object.keys(s.dataCentres))
    if (!siteIds.has(key)) problem(`dataCentres.${key}`, 'not a site of this scenario');
  s.faults.forEach((fault, i) => {
    if (!(fault.type === 'duplicates' && fault.device === '*') && !devices.has(fault.device)) {
      problem(`faults[${i}].device`, `unknown device "${fault.device}"`);
    }
  });
  s.demandResponse.forEach((event, i) =>
    event.sites.forEach((id, j) => {
      if (!offices.has(id))
        problem(`demandResponse[${i}].sites[${j}]`, `"${id}" is not an office of this scenario`);
    }),
  );
  const priceResponse = new Map<string, PriceResponse>();
  if (s.priceResponse.length > 0) {
    const tariffs = loadTariffs(resolve(dirname(file), s.tariffsDir));
    s.priceResponse.forEach((entry, i) =>
      entry.sites.forEach((id, j) => {
        const at = `priceResponse[${i}].sites[${j}]`;
        const tariff = sites.find((site) => site.id === id)?.tariff;
        if (!offices.has(id)) problem(at, `"${id}" is not an office of this scenario`);
        else if (!tariff || !tariffs.tariff(tariff))
          problem(at, `"${id}" declares no tariff of ${s.tariffsDir}`);
        else
          priceResponse.set(id, {
            shift: entry.shift,
            divisions: tariffs.divisions,
            versions: tariffs.versions(tariff),
          });
      }),
    );
  }
  if (problems.length > 0) throw new DataFileError(problems);

  return {
    file,
    name: s.name,
    location: s.location,
    intervalSeconds: s.intervalSeconds,
    batchSize: s.batchSize,
    climate: { ...BEIJING_CLIMATE, ...s.climate },
    emissionFactors: s.emissionFactors,
    renewableAccounting: s.renewableAccounting,
    sites,
    offices,
    pv,
    dataCentres,
    heatPumps,
    gas,
    districtHeat,
    initialRegisters: s.initialRegisters,
    faults: s.faults,
    demandResponse: s.demandResponse,
    priceResponse,
  };
}
