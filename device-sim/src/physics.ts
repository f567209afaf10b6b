import type { MetricName } from '@peakwatch/contracts';
import type { Device, Site } from '@peakwatch/registry';
import { Rng } from './rng';
import { localTime } from './models/clock';
import { cloudFraction, outdoorTemperatureC } from './models/weather';
import { clearSkyIrradiance, cloudyIrradiance, cosZenith } from './models/solar';
import { pvPowerKw } from './models/pv';
import { officeLoadKw, type SubmeterCategory } from './models/office';
import { dataCentrePowerKw } from './models/data-centre';
import { heatPumpState } from './models/heat-pump';
import { gasFlowM3PerHour } from './models/gas';
import { districtHeatKw } from './models/district-heat';
import { faultTime, type Scenario } from './scenario';

/**
 * What every device measures during one step [t, t + Δt): rates (kW, m³/h) that stay constant over the step, and
 * instantaneous values. Registers advance by rate × Δt, so a register's delta always equals the integrated rate.
 */
export interface DeviceState {
  /** Rates per cumulative metric: kW for *_kwh, m³/h for *_m3. */
  rates: Partial<Record<MetricName, number>>;
  /** Instantaneous values published as they are (power_kw, temperatures, irradiance). */
  instant: Partial<Record<MetricName, number>>;
  /**
   * Of a grid meter while its site sheds or adds load (a demand-response event, a price response): how much less it
   * imports than without (kW; negative when it imports more).
   */
  reductionKw?: number;
}

export interface Weather {
  outdoorTempC: number;
  cloudFraction: number;
  irradianceWm2: number;
}

const SUBMETER: Record<string, SubmeterCategory> = {
  lighting_sockets: 'lighting_sockets',
  hvac: 'hvac',
  power: 'power',
  special: 'special',
};

/** Multiplicative measurement noise of meter loads (standard deviation, fraction). */
const LOAD_NOISE = 0.03;

export function weatherAt(tsMs: number, scenario: Scenario, seed: number): Weather {
  const { utcOffsetHours } = scenario.location;
  const outdoorTempC = outdoorTemperatureC({ tsMs, utcOffsetHours, seed }, scenario.climate);
  const cloud = cloudFraction({ tsMs, utcOffsetHours, seed }, scenario.climate);
  const clear =
    clearSkyIrradiance(cosZenith({ tsMs, location: scenario.location })) *
    scenario.climate.aerosolTransmittance;
  return {
    outdoorTempC,
    cloudFraction: cloud,
    irradianceWm2: cloudyIrradiance({ clearSkyWm2: clear, cloudFraction: cloud }),
  };
}

/** The state of every device of a site during the step starting at `tsMs`. */
export function siteStates({
  site,
  tsMs,
  weather,
  scenario,
  seed,
  runStartMs = tsMs,
  shed = {},
  addKw = {},
}: {
  site: Site;
  tsMs: number;
  weather: Weather;
  scenario: Scenario;
  seed: number;
  /** Start of the run, for drifts given as an offset from it. */
  runStartMs?: number;
  /** The share of each sub-metering category's load shed now (a demand-response event, a peak band). */
  shed?: Partial<Record<SubmeterCategory, number>>;
  /** Load added to a sub-metering category now (kW): a price response drawing in the valley what it shed. */
  addKw?: Partial<Record<SubmeterCategory, number>>;
}): Map<string, DeviceState> {
  const local = localTime(tsMs, scenario.location.utcOffsetHours);
  const states = new Map<string, DeviceState>();
  const noise = (device: Device): number => 1 + LOAD_NOISE * Rng.for(seed, device.id, tsMs).normal();

  // Office sub-meters (A–D) and their sum; heat pumps are booked under HVAC (B).
  const office = scenario.offices.get(site.id);
  const categories = office
    ? officeLoadKw({
        local,
        outdoorTempC: weather.outdoorTempC,
        floorAreaM2: site.floorAreaM2,
        loadScale: office.loadScale,
      })
    : undefined;
  let buildingKw = 0;
  /** The building's load as it would be without a demand-response event. */
  let withoutEventKw = 0;
  let pvKw = 0;
  for (const device of site.devices) {
    switch (device.role) {
      case 'hp': {
        const hp = heatPumpState(
          { local, outdoorTempC: weather.outdoorTempC },
          scenario.heatPumps.get(device.id)!,
        );
        states.set(device.id, {
          rates: { energy_import_kwh: hp.electricKw, heat_kwh: hp.heatKw },
          instant: { power_kw: hp.electricKw, flow_temp_c: hp.flowTempC, return_temp_c: hp.returnTempC },
        });
        break;
      }
      case 'pv': {
        pvKw = pvPowerKw(
          { irradianceWm2: weather.irradianceWm2, airTempC: weather.outdoorTempC },
          scenario.pv.get(device.id)!,
        );
        // An inverter exports: its register counts energy delivered, its power is negative (import positive).
        states.set(device.id, {
          rates: { energy_export_kwh: pvKw },
          instant: { power_kw: pvKw > 0 ? -pvKw : 0, irradiance_w_m2: weather.irradianceWm2 },
        });
        break;
      }
      case 'gas': {
        const flow = gasFlowM3PerHour({ local }, scenario.gas.get(device.id)!) * noise(device);
        states.set(device.id, { rates: { gas_m3: flow }, instant: {} });
        break;
      }
      case 'heat_purchased': {
        const kw =
          districtHeatKw(
            { local, outdoorTempC: weather.outdoorTempC },
            scenario.districtHeat.get(device.id)!,
          ) * noise(device);
        states.set(device.id, { rates: { heat_kwh: kw }, instant: {} });
        break;
      }
      case 'weather':
        states.set(device.id, {
          rates: {},
          instant: { outdoor_temp_c: weather.outdoorTempC, irradiance_w_m2: weather.irradianceWm2 },
        });
        break;
      default:
        break;
    }
  }
  const heatPumpKw = [...states.values()].reduce(
    (sum, s) => sum + (s.rates.heat_kwh !== undefined ? (s.rates.energy_import_kwh ?? 0) : 0),
    0,
  );
  for (const device of site.devices) {
    const category = SUBMETER[device.role];
    if (category && categories) {
      const unshed = categories[category] * noise(device) + (category === 'hvac' ? heatPumpKw : 0);
      const kw = unshed * (1 - (shed[category] ?? 0)) + (addKw[category] ?? 0);
      withoutEventKw += unshed;
      buildingKw += kw;
      states.set(device.id, { rates: { energy_import_kwh: kw }, instant: { power_kw: kw } });
    }
  }
  const dc = scenario.dataCentres.get(site.id);
  if (dc) {
    const rng = Rng.for(seed, site.id, 'dc', tsMs);
    const { itKw, totalKw } = dataCentrePowerKw(
      {
        local,
        outdoorTempC: weather.outdoorTempC,
        noise: [rng.normal(), rng.normal()],
        driftDays: dc.drift ? (tsMs - faultTime(dc.drift.since, runStartMs)) / 86_400_000 : 0,
      },
      dc,
    );
    for (const device of site.devices) {
      if (device.role === 'dc_it')
        states.set(device.id, { rates: { energy_import_kwh: itKw }, instant: { power_kw: itKw } });
      if (device.role === 'dc_total')
        states.set(device.id, { rates: { energy_import_kwh: totalKw }, instant: { power_kw: totalKw } });
    }
  }
  // The grid meter measures the building's net exchange: load minus PV behind it; a surplus is exported.
  for (const device of site.devices) {
    if (device.role !== 'grid') continue;
    const netKw = buildingKw - pvKw;
    const hasPv = site.devices.some((d) => d.role === 'pv');
    const reductionKw = Math.max(0, withoutEventKw - pvKw) - Math.max(0, netKw);
    states.set(device.id, {
      rates: hasPv
        ? { energy_import_kwh: Math.max(0, netKw), energy_export_kwh: Math.max(0, -netKw) }
        : { energy_import_kwh: Math.max(0, netKw) },
      instant: { power_kw: netKw },
      ...(reductionKw !== 0 ? { reductionKw } : {}),
    });
  }
  return states;
}
