import type { Site } from '@peakwatch/registry';
import type { Scenario } from './scenario';
import { localDayStart } from './models/clock';

/** Version of the ground-truth file format (documented in device-sim/README.md). */
export const GROUND_TRUTH_FORMAT = 'peakwatch-ground-truth/1';

const QUARTER_MS = 900_000;

export interface FaultRecord {
  type: string;
  device: string;
  at: string;
  until?: string;
  detail?: Record<string, number | string>;
}

export interface SiteWindowTruth {
  /** Local date (YYYY-MM-DD) of a day window, or "total" for the whole run. */
  window: string;
  consumptionKwh: number;
  gridImportKwh: number;
  gridExportKwh?: number;
  pvKwh?: number;
  pvSelfConsumedKwh?: number;
  renewableShare?: number | null;
  categoryKwh?: Record<string, number>;
  euiKwhPerM2: number;
  co2Kg: number;
  gasM3?: number;
  itKwh?: number;
  pue?: number | null;
  heatPumps?: Record<string, { heatKwh: number; electricKwh: number; cop: number | null }>;
}

type MetricSums = Record<string, number>;

/** Rounds for a stable, compact file: 6 decimals are far below any meter's resolution. */
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * Collects what the simulator generated, from the true (unfaulted, unrounded) rates: the oracle of the end-to-end
 * tests. Writing it gives the same bytes for the same scenario, seed and window.
 */
export class GroundTruthBuilder {
  private readonly quarters = new Map<string, Map<string, Map<number, number>>>();
  private readonly days = new Map<string, Map<number, MetricSums>>();
  private readonly totals = new Map<string, MetricSums>();
  private readonly readings = new Map<string, [number, number][]>();
  private readonly duplicates = new Map<string, number[]>();
  private readonly expected = new Map<string, Map<number, number>>();
  private readonly sent = new Map<string, Map<number, number>>();
  private readonly malformed = new Map<string, number>();
  private readonly events = new Map<string, number>();
  readonly faults: FaultRecord[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly seed: number,
    private readonly fromMs: number,
  ) {}

  /** Adds the energy (or volume) a device's metric carried over one step. */
  addAmount(deviceId: string, metric: string, tsMs: number, amount: number): void {
    const byMetric = getOrSet(this.quarters, deviceId, () => new Map<string, Map<number, number>>());
    const byQuarter = getOrSet(byMetric, metric, () => new Map<number, number>());
    const quarter = Math.floor(tsMs / QUARTER_MS) * QUARTER_MS;
    byQuarter.set(quarter, (byQuarter.get(quarter) ?? 0) + amount);
    const day = localDayStart(tsMs, this.scenario.location.utcOffsetHours);
    const daySums = getOrSet(
      getOrSet(this.days, deviceId, () => new Map<number, MetricSums>()),
      day,
      (): MetricSums => ({}),
    );
    daySums[metric] = (daySums[metric] ?? 0) + amount;
    const total = getOrSet(this.totals, deviceId, (): MetricSums => ({}));
    total[metric] = (total[metric] ?? 0) + amount;
  }

  expectReading(deviceId: string, tsMs: number): void {
    const day = localDayStart(tsMs, this.scenario.location.utcOffsetHours);
    const perDay = getOrSet(this.expected, deviceId, () => new Map<number, number>());
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }

  readingSent(deviceId: string, seq: number, publishedTs: number, trueTs: number, duplicate: boolean): void {
    if (duplicate) {
      getOrSet(this.duplicates, deviceId, () => []).push(seq);
      return;
    }
    getOrSet(this.readings, deviceId, () => []).push([seq, publishedTs]);
    const day = localDayStart(trueTs, this.scenario.location.utcOffsetHours);
    const perDay = getOrSet(this.sent, deviceId, () => new Map<number, number>());
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }

  malformedSent(deviceId: string): void {
    this.malformed.set(deviceId, (this.malformed.get(deviceId) ?? 0) + 1);
  }

  eventSent(deviceId: string): void {
    this.events.set(deviceId, (this.events.get(deviceId) ?? 0) + 1);
  }

  fault(record: FaultRecord): void {
    this.faults.push(record);
  }

  /** The ground-truth document for the run [fromMs, toMs]. */
  build(toMs: number): object {
    const { scenario } = this;
    const devices: Record<string, object> = {};
    for (const site of scenario.sites) {
      for (const device of site.devices) {
        const byMetric = this.quarters.get(device.id);
        const expectedDays = this.expected.get(device.id) ?? new Map<number, number>();
        const sentDays = this.sent.get(device.id) ?? new Map<number, number>();
        devices[device.id] = {
          site: site.id,
          kind: device.kind,
          role: device.role,
          intervals15m: Object.fromEntries(
            [...(byMetric ?? new Map<string, Map<number, number>>())].map(([metric, quarters]) => [
              metric,
              [...quarters].sort((a, b) => a[0] - b[0]).map(([t, v]) => [t, r6(v)]),
            ]),
          ),
          completeness: [...expectedDays]
            .sort((a, b) => a[0] - b[0])
            .map(([day, n]) => ({ day: this.dayLabel(day), expected: n, received: sentDays.get(day) ?? 0 })),
          messages: {
            readings: this.readings.get(device.id) ?? [],
            duplicates: this.duplicates.get(device.id) ?? [],
            events: this.events.get(device.id) ?? 0,
            malformed: this.malformed.get(device.id) ?? 0,
          },
        };
      }
    }
    const sites: Record<string, object> = {};
    for (const site of scenario.sites) {
      const dayKeys = new Set<number>();
      for (const device of site.devices)
        for (const day of this.days.get(device.id)?.keys() ?? []) dayKeys.add(day);
      sites[site.id] = {
        district: site.district,
        type: site.type,
        floorAreaM2: site.floorAreaM2,
        days: [...dayKeys]
          .sort((a, b) => a - b)
          .map((day) => this.siteWindow(site, this.dayLabel(day), (id) => this.days.get(id)?.get(day) ?? {})),
        total: this.siteWindow(site, 'total', (id) => this.totals.get(id) ?? {}),
      };
    }
    return {
      format: GROUND_TRUTH_FORMAT,
      scenario: scenario.name,
      seed: this.seed,
      from: new Date(this.fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      intervalSeconds: scenario.intervalSeconds,
      utcOffsetHours: scenario.location.utcOffsetHours,
      emissionFactors: scenario.emissionFactors,
      sites,
      devices,
      faults: this.faults,
    };
  }

  private dayLabel(dayStartMs: number): string {
    return new Date(dayStartMs + this.scenario.location.utcOffsetHours * 3_600_000)
      .toISOString()
      .slice(0, 10);
  }

  private siteWindow(site: Site, window: string, sums: (deviceId: string) => MetricSums): SiteWindowTruth {
    const f = this.scenario.emissionFactors;
    const byRole = (role: string, metric: string): number =>
      site.devices.filter((d) => d.role === role).reduce((s, d) => s + (sums(d.id)[metric] ?? 0), 0);
    if (site.type === 'data_centre') {
      const total = byRole('dc_total', 'energy_import_kwh');
      const it = byRole('dc_it', 'energy_import_kwh');
      return {
        window,
        consumptionKwh: r6(total),
        gridImportKwh: r6(total),
        itKwh: r6(it),
        pue: it > 0 ? r6(total / it) : null,
        euiKwhPerM2: r6(total / site.floorAreaM2),
        co2Kg: r6(total * f.gridKgCo2PerKwh.value),
      };
    }
    const gridImport = byRole('grid', 'energy_import_kwh');
    const gridExport = byRole('grid', 'energy_export_kwh');
    const pv = byRole('pv', 'energy_export_kwh');
    const gas = byRole('gas', 'gas_m3');
    const consumption = gridImport - gridExport + pv;
    const hasPv = site.devices.some((d) => d.role === 'pv');
    const heatPumps = site.devices.filter((d) => d.role === 'hp');
    return {
      window,
      consumptionKwh: r6(consumption),
      gridImportKwh: r6(gridImport),
      ...(hasPv
        ? {
            gridExportKwh: r6(gridExport),
            pvKwh: r6(pv),
            pvSelfConsumedKwh: r6(pv - gridExport),
            renewableShare: consumption > 0 ? r6((pv - gridExport) / consumption) : null,
          }
        : {}),
      categoryKwh: Object.fromEntries(
        ['lighting_sockets', 'hvac', 'power', 'special'].map((c) => [c, r6(byRole(c, 'energy_import_kwh'))]),
      ),
      euiKwhPerM2: r6(consumption / site.floorAreaM2),
      co2Kg: r6(gridImport * f.gridKgCo2PerKwh.value + gas * f.gasKgCo2PerM3.value),
      ...(site.devices.some((d) => d.role === 'gas') ? { gasM3: r6(gas) } : {}),
      ...(heatPumps.length > 0
        ? {
            heatPumps: Object.fromEntries(
              heatPumps.map((d) => {
                const heat = sums(d.id)['heat_kwh'] ?? 0;
                const electric = sums(d.id)['energy_import_kwh'] ?? 0;
                return [
                  d.id,
                  {
                    heatKwh: r6(heat),
                    electricKwh: r6(electric),
                    cop: electric > 0 ? r6(heat / electric) : null,
                  },
                ];
              }),
            ),
          }
        : {}),
    };
  }
}

function getOrSet<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
