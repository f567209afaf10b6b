import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadScenario, type Scenario } from './scenario';
import { Simulation, type Outgoing, type Reading } from './simulation';
import { loadTariffs } from '@peakwatch/policy';
import { generate } from './run';

const SCENARIO = join(__dirname, '../../seeds/scenarios/haidian-campus.yaml');
const FROM = Date.parse('2025-01-13T00:00:00+08:00'); // a Monday in the heating season
const TWO_DAYS = 2 * 86_400_000;

function scenario(withFaults: boolean): Scenario {
  const s = loadScenario(SCENARIO);
  return withFaults ? s : { ...s, faults: [] };
}

function run(s: Scenario, seed: number, fromMs = FROM, toMs = FROM + TWO_DAYS) {
  const simulation = new Simulation(s, { seed, fromMs });
  const items = [...generate(simulation, toMs)];
  return { items, truth: simulation.truth.build(toMs) as Truth };
}

interface Truth {
  sites: Record<string, { total: Record<string, unknown>; days: Record<string, unknown>[] }>;
  devices: Record<
    string,
    {
      intervals15m: Record<string, [number, number][]>;
      messages: { readings: [number, number][]; duplicates: number[] };
    }
  >;
  faults: { type: string; device: string; at: string; until?: string }[];
}

const readingsOf = (items: Outgoing[], deviceId: string): Reading[] =>
  items
    .filter((o) => o.type === 'reading' && o.deviceId === deviceId && !o.duplicate)
    .map((o) => (o as { reading: Reading }).reading);

describe('simulation without faults', () => {
  const { items, truth } = run(scenario(false), 42);

  it('publishes one reading per device every 5 minutes, first and last step included', () => {
    // 2 days × 288 steps + the closing reading at `to` = 577 readings per device
    expect(readingsOf(items, 'b1-grid')).toHaveLength(577);
    expect(readingsOf(items, 'dc1-it').map((r) => r.seq)).toEqual([...Array(577).keys()]);
  });

  it.each(['b1-grid', 'b1-lighting', 'b2-grid', 'b2-hp1', 'dc1-total', 'dc1-it'])(
    '%s: every register delta equals power × Δt of the step before (within rounding)',
    (deviceId) => {
      const readings = readingsOf(items, deviceId);
      for (let k = 1; k < readings.length; k++) {
        const prev = readings[k - 1]!.values;
        const next = readings[k]!.values;
        const metric = 'energy_import_kwh';
        const delta = next[metric]! - prev[metric]!;
        const powerImport = Math.max(0, prev['power_kw']!); // import positive; the grid meter of b1 may export
        // 5 minutes = 1/12 h; registers and power are rounded to 0.001
        expect(Math.abs(delta - powerImport / 12)).toBeLessThan(0.0025);
      }
    },
  );

  it('ground-truth 15-minute energy equals the register delta over the quarter (CT ratio applied)', () => {
    const readings = readingsOf(items, 'b2-grid'); // ctRatio 20: the meter shows 1/20 of the energy
    const quarters = truth.devices['b2-grid']!.intervals15m['energy_import_kwh']!;
    expect(quarters).toHaveLength(2 * 96);
    quarters.forEach(([start, kwh], q) => {
      expect(readings[q * 3]!.ts).toBe(start);
      const delta =
        readings[q * 3 + 3]!.values['energy_import_kwh']! - readings[q * 3]!.values['energy_import_kwh']!;
      expect(delta * 20).toBeCloseTo(kwh, 1);
    });
  });

  it('keeps the site balance: grid import = sum of the four sub-meters (no PV on building 2)', () => {
    const total = truth.sites['hd-b2']!.total as {
      gridImportKwh: number;
      categoryKwh: Record<string, number>;
    };
    const categories = Object.values(total.categoryKwh).reduce((a, b) => a + b, 0);
    expect(total.gridImportKwh).toBeCloseTo(categories, 5);
  });

  it('produces PV only in daylight, bounded by 300 kWp, and books it against the grid meter', () => {
    const pv = readingsOf(items, 'b1-pv');
    for (const r of pv) {
      const hour = new Date(r.ts + 8 * 3_600_000).getUTCHours();
      if (hour < 6 || hour >= 18) expect(r.values['power_kw']).toBe(0); // January: the sun is down before 07:30 and after 17:10
      expect(-r.values['power_kw']!).toBeLessThanOrEqual(300);
    }
    const total = truth.sites['hd-b1']!.total as {
      consumptionKwh: number;
      gridImportKwh: number;
      gridExportKwh: number;
      pvKwh: number;
      categoryKwh: Record<string, number>;
    };
    expect(total.pvKwh).toBeGreaterThan(0);
    // consumption = import − export + PV = the sub-meters' sum
    const categories = Object.values(total.categoryKwh).reduce((a, b) => a + b, 0);
    expect(total.consumptionKwh).toBeCloseTo(categories, 5);
  });

  it('gives a data-centre PUE inside the scenario band (1.25–1.55) for every day', () => {
    for (const day of truth.sites['hd-dc1']!.days) {
      expect(day['pue']).toBeGreaterThanOrEqual(1.25);
      expect(day['pue']).toBeLessThanOrEqual(1.55);
    }
  });
});

describe('determinism', () => {
  const digest = (seed: number): string => {
    const { items, truth } = run(scenario(true), seed);
    return createHash('sha256').update(JSON.stringify(items)).update(JSON.stringify(truth)).digest('hex');
  };

  it('gives the same bytes for the same seed, and different ones for another seed', () => {
    expect(digest(7)).toBe(digest(7));
    expect(digest(8)).not.toBe(digest(7));
  });
});

describe('faults of the sample scenario', () => {
  const { items, truth } = run(scenario(true), 42);
  const faultTypes = new Set(truth.faults.map((f) => f.type));

  it('logs every injected fault with its time', () => {
    for (const type of [
      'gap',
      'offline',
      'out_of_order',
      'late_batch',
      'meter_replacement',
      'spike',
      'clock_skew',
      'malformed',
      'wrong_credentials',
      'register_wrap',
    ]) {
      expect(faultTypes).toContain(type);
    }
    for (const f of truth.faults) expect(Number.isNaN(Date.parse(f.at))).toBe(false);
  });

  it('drops the readings of a gap (b2-lighting, 2 h from +1d09h = 24 readings)', () => {
    const gapStart = FROM + 33 * 3_600_000;
    const sent = readingsOf(items, 'b2-lighting').map((r) => r.ts);
    expect(sent.filter((ts) => ts >= gapStart && ts < gapStart + 7_200_000)).toEqual([]);
    expect(sent).toHaveLength(577 - 24);
  });

  it('wraps the b3 grid register at 1,000,000 kWh without losing energy', () => {
    const readings = readingsOf(items, 'b3-grid');
    const wrapIndex = readings.findIndex(
      (r, k) => k > 0 && r.values['energy_import_kwh']! < readings[k - 1]!.values['energy_import_kwh']!,
    );
    expect(wrapIndex).toBeGreaterThan(0);
    const before = readings[wrapIndex - 1]!;
    const after = readings[wrapIndex]!;
    const delta = 1_000_000 - before.values['energy_import_kwh']! + after.values['energy_import_kwh']!;
    expect(delta).toBeCloseTo(before.values['power_kw']! / 12, 2);
  });

  it('announces the meter replacement with the old final and the new start, then restarts the register', () => {
    const event = items.find((o) => o.type === 'event' && o.deviceId === 'b1-hvac');
    expect(event).toMatchObject({ event: { type: 'meter_replaced', start: { energy_import_kwh: 0 } } });
    const at = (event as unknown as { event: { ts: number; final: { energy_import_kwh: number } } }).event;
    const readings = readingsOf(items, 'b1-hvac');
    const k = readings.findIndex((r) => r.ts === at.ts);
    expect(readings[k]!.values['energy_import_kwh']).toBe(0);
    // the old meter's final equals its register at the previous reading plus that step's energy
    expect(at.final.energy_import_kwh - readings[k - 1]!.values['energy_import_kwh']!).toBeCloseTo(
      readings[k - 1]!.values['power_kw']! / 12,
      2,
    );
  });

  it('sends the late batch after later readings, and the out-of-order window reversed', () => {
    const b1 = items
      .filter((o) => o.type === 'reading' && o.deviceId === 'b1-grid' && !o.duplicate)
      .map((o) => (o as { reading: Reading }).reading.ts);
    const lateStart = FROM + 26 * 3_600_000;
    const firstLate = b1.indexOf(lateStart);
    expect(b1[firstLate - 1]).toBeGreaterThan(lateStart + 3 * 3_600_000); // published after readings of later hours
    const dc = items
      .filter((o) => o.type === 'reading' && o.deviceId === 'dc1-it' && !o.duplicate)
      .map((o) => (o as { reading: Reading }).reading.ts);
    const oooStart = FROM + 6 * 3_600_000;
    const window = dc.filter((ts) => ts >= oooStart && ts < oooStart + 3_600_000);
    expect(window).toEqual([...window].sort((a, b) => b - a));
    expect(window).toHaveLength(12);
  });

  it('lists every sent reading and duplicate in the ground truth', () => {
    for (const deviceId of ['b1-grid', 'b3-special', 'dc1-it']) {
      const sent = items.filter((o) => o.type === 'reading' && o.deviceId === deviceId) as (Outgoing & {
        type: 'reading';
      })[];
      const messages = truth.devices[deviceId]!.messages;
      expect(messages.readings).toEqual(
        sent.filter((o) => !o.duplicate).map((o) => [o.reading.seq, o.reading.ts]),
      );
      expect(messages.duplicates).toEqual(sent.filter((o) => o.duplicate).map((o) => o.reading.seq));
    }
  });

  it('skews b3-special timestamps by 90 s for 2 h', () => {
    const skewed = readingsOf(items, 'b3-special').filter((r) => r.ts % 300_000 !== 0);
    expect(skewed).toHaveLength(24);
    for (const r of skewed) expect(r.ts % 300_000).toBe(90_000);
  });
});

describe('a lossy link and the silences the ground truth states', () => {
  const lossy: Scenario = {
    ...scenario(false),
    faults: [{ type: 'loss', device: 'dc1-it', probability: 0.2 }],
  };
  const { items, truth } = run(lossy, 7);
  const silences = (
    truth.devices['dc1-it'] as unknown as {
      silences: { fromMs: number; toMs: number; powerKw: Record<string, { min: number; max: number }> }[];
    }
  ).silences;

  it('loses readings at random but never the last, and the register keeps counting', () => {
    const sent = readingsOf(items, 'dc1-it');
    expect(sent.length).toBeLessThan(577 * 0.9);
    expect(sent.length).toBeGreaterThan(577 * 0.7);
    expect(sent.at(-1)!.ts).toBe(FROM + TWO_DAYS);
    // the register delta over the whole run is the true energy: nothing lost with the readings
    const energy = truth.devices['dc1-it']!.intervals15m['energy_import_kwh']!.reduce(
      (s, [, kwh]) => s + kwh,
      0,
    );
    const first = sent[0]!.values['energy_import_kwh']!;
    expect(Math.abs(sent.at(-1)!.values['energy_import_kwh']! - first - energy)).toBeLessThan(0.002);
  });

  it('states each span between readings sent more than 1.5 intervals apart, with the power over it', () => {
    const times = readingsOf(items, 'dc1-it').map((r) => r.ts);
    const expected = times.slice(1).flatMap((t, i) => (t - times[i]! > 450_000 ? [[times[i], t]] : []));
    expect(silences.map((s) => [s.fromMs, s.toMs])).toEqual(expected);
    // the IT load is about 400 kW (±6% over the day): its range over a silence lies within that band
    for (const s of silences) {
      const { min, max } = s.powerKw['energy_import_kwh']!;
      expect(min).toBeGreaterThan(350);
      expect(max).toBeLessThan(450);
      expect(min).toBeLessThanOrEqual(max);
    }
    // the other devices sent everything
    expect((truth.devices['dc1-total'] as unknown as { silences: unknown[] }).silences).toEqual([]);
  });
});

describe('an office answering its time-of-use tariff', () => {
  // hd-b2 (tariff bj-single-part-1-10kv) sheds half of its power sub-meter's load in the critical and peak bands and
  // draws it back in the valley; the same run without the response is what it would have drawn
  const tariffs = loadTariffs(join(__dirname, '../../seeds/tariffs'));
  const [divisions, versions] = [tariffs.divisions, tariffs.versions('bj-single-part-1-10kv')];
  const plain = scenario(false);
  const responsive: Scenario = {
    ...plain,
    priceResponse: new Map([['hd-b2', { shift: { power: 0.5 }, divisions, versions }]]),
  };
  // Monday 13 January 2025 to 07:00 on Wednesday: two days and the night that draws the second day's peak back
  const until = FROM + TWO_DAYS + 7 * 3_600_000;
  const before = run(plain, 7, FROM, until).truth;
  const after = run(responsive, 7, FROM, until).truth as Truth & {
    sites: Record<string, { priceShift15m?: [number, number][] }>;
  };
  const quarters = (truth: Truth, device: string) =>
    new Map(truth.devices[device]!.intervals15m['energy_import_kwh']!.map(([t, kwh]) => [t, kwh]));
  const [gridBefore, gridAfter, power] = [
    quarters(before, 'b2-grid'),
    quarters(after, 'b2-grid'),
    quarters(before, 'b2-power'),
  ];
  const shift = new Map(after.sites['hd-b2']!.priceShift15m);
  /** The band of a quarter by hand: January, so critical 18-21; peak 10-13 and 17-18, 21-22; valley 23-07. */
  const band = (t: number): string => {
    const hour = new Date(t + 8 * 3_600_000).getUTCHours();
    if (hour >= 18 && hour < 21) return 'critical';
    if ((hour >= 10 && hour < 13) || hour === 17 || hour === 21) return 'peak';
    return hour >= 23 || hour < 7 ? 'valley' : 'flat';
  };

  it('sheds half of the power sub-meter in every critical and peak quarter, and states it', () => {
    const peakQuarters = [...gridBefore.keys()].filter((t) => band(t) === 'critical' || band(t) === 'peak');
    expect(peakQuarters).toHaveLength(2 * 8 * 4);
    for (const t of peakQuarters) {
      expect(gridBefore.get(t)! - gridAfter.get(t)!).toBeCloseTo(power.get(t)! / 2, 5);
      expect(shift.get(t)).toBeCloseTo(power.get(t)! / 2, 5);
    }
  });

  it('draws it all back in the valley that follows, evenly, and nothing in the flat band', () => {
    for (const t of gridBefore.keys())
      if (band(t) === 'flat') expect(gridAfter.get(t)).toBeCloseTo(gridBefore.get(t)!, 6);
    // each night from 23:00 the day's shed energy over its 32 valley quarters
    for (const day of [0, 1]) {
      const dayStart = FROM + day * 86_400_000;
      const shed = [...shift].filter(([t, kwh]) => t >= dayStart && t < dayStart + 23 * 3_600_000 && kwh > 0);
      const total = shed.reduce((s, [, kwh]) => s + kwh, 0);
      const night = Array.from({ length: 32 }, (_, q) => dayStart + 23 * 3_600_000 + q * 900_000);
      for (const t of night) expect(gridAfter.get(t)! - gridBefore.get(t)!).toBeCloseTo(total / 32, 5);
    }
    // over the run, not a kWh more or less
    const sum = (m: Map<number, number>): number => [...m.values()].reduce((s, kwh) => s + kwh, 0);
    expect(sum(gridAfter)).toBeCloseTo(sum(gridBefore), 4);
  });
});
