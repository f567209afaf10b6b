import { peakDemand, pue } from './kpi';
import { bookIntoWindows, registerDeltas, type RegisterReading, type WindowEnergy } from './register';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0); // a 15-minute boundary
const at = (minutes: number, value: number): RegisterReading => ({ tsMs: T0 + minutes * MIN, value });
const METER = { intervalMs: 5 * MIN, ratedPowerKw: 100 };

describe('registerDeltas', () => {
  it('reads a rising register as normal deltas', () => {
    // 100 → 105 → 112 kWh
    expect(registerDeltas({ readings: [at(0, 100), at(5, 105), at(10, 112)], meter: METER })).toEqual([
      { fromMs: T0, toMs: T0 + 5 * MIN, energy: 5, kind: 'normal', estimated: false },
      { fromMs: T0 + 5 * MIN, toMs: T0 + 10 * MIN, energy: 7, kind: 'normal', estimated: false },
    ]);
  });

  it('counts a duplicate reading (same timestamp) once, and sorts late readings in', () => {
    const deltas = registerDeltas({
      readings: [at(10, 112), at(0, 100), at(5, 105), at(5, 105)],
      meter: METER,
    });
    expect(deltas.map((d) => d.energy)).toEqual([5, 7]);
  });

  it('applies the CT ratio: a 0.25 kWh step on the secondary side of 20:1 CTs is 5 kWh', () => {
    const [d] = registerDeltas({ readings: [at(0, 10), at(5, 10.25)], meter: { ...METER, ctRatio: 20 } });
    expect(d!.energy).toBeCloseTo(5, 12);
  });

  it('accepts a wrap at the modulus when the implied power is possible', () => {
    // 999,995 → 3 at modulus 1,000,000: Δ = 1,000,000 − 999,995 + 3 = 8 kWh in 5 min = 96 kW ≤ 100 kW × 1.1
    const [d] = registerDeltas({
      readings: [at(0, 999_995), at(5, 3)],
      meter: { ...METER, modulus: 1_000_000 },
    });
    expect(d).toMatchObject({ energy: 8, kind: 'wrap' });
  });

  it('refuses a "wrap" that would imply impossible power: an unexplained drop', () => {
    // 999,000 → 500: Δ would be 1,500 kWh in 5 min = 18,000 kW ≫ 110 kW
    const [d] = registerDeltas({
      readings: [at(0, 999_000), at(5, 500)],
      meter: { ...METER, modulus: 1_000_000 },
    });
    expect(d).toMatchObject({ energy: null, kind: 'unexplained_drop' });
  });

  it('never takes an unexplained drop for a reset', () => {
    const [d] = registerDeltas({ readings: [at(0, 5000), at(5, 12)], meter: METER });
    expect(d).toMatchObject({ energy: null, kind: 'unexplained_drop' });
  });

  it('joins a declared meter replacement: (final − prev) + (next − start)', () => {
    // old meter 5,000 → final 5,004 at minute 3; new meter starts at 0 and reads 2 at minute 5: 4 + 2 = 6 kWh
    const [d] = registerDeltas({
      readings: [at(0, 5000), at(5, 2)],
      events: [{ tsMs: T0 + 3 * MIN, type: 'meter_replaced', final: 5004, start: 0 }],
      meter: METER,
    });
    expect(d).toMatchObject({ energy: 6, kind: 'replacement' });
  });

  it('cannot join a replacement without the final value', () => {
    const [d] = registerDeltas({
      readings: [at(0, 5000), at(5, 2)],
      events: [{ tsMs: T0 + 3 * MIN, type: 'register_reset' }],
      meter: METER,
    });
    expect(d).toMatchObject({ energy: null, kind: 'unexplained_drop' });
  });

  it('flags a jump above the rated power as implausible', () => {
    // 50 kWh in 5 min = 600 kW > 110 kW
    const [d] = registerDeltas({ readings: [at(0, 100), at(5, 150)], meter: METER });
    expect(d).toMatchObject({ energy: null, kind: 'implausible' });
  });

  it('keeps the energy across a gap whole and marks it estimated', () => {
    // readings at 0 and 40 min (gap of 7 intervals): 100 → 160 = 60 kWh (90 kW average, possible)
    const [d] = registerDeltas({ readings: [at(0, 100), at(40, 160)], meter: METER });
    expect(d).toMatchObject({ energy: 60, kind: 'normal', estimated: true });
  });
});

describe('bookIntoWindows', () => {
  it('gives each 15-minute window the deltas that end in it', () => {
    // readings every 5 min: 0,5,10,15,20 → 100,101,103,106,110
    const deltas = registerDeltas({
      readings: [at(0, 100), at(5, 101), at(10, 103), at(15, 106), at(20, 110)],
      meter: METER,
    });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0, energy: 6, estimatedEnergy: 0, estimated: false, unknown: 0 }, // 1 + 2 + 3 (15 closes it)
      { startMs: T0 + 15 * MIN, energy: 4, estimatedEnergy: 0, estimated: false, unknown: 0 },
    ]);
  });

  it('spreads the energy across a gap over its span by time, estimated', () => {
    // 100 at 0, then nothing until 130 at minute 40: 30 kWh over 40 minutes, 0.75 kWh a minute:
    // [0, 15) 15 min → 11.25, [15, 30) 15 min → 11.25, [30, 45) 10 min → 7.5
    const deltas = registerDeltas({ readings: [at(0, 100), at(40, 130)], meter: METER });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0, energy: 11.25, estimatedEnergy: 11.25, estimated: true, unknown: 0 },
      { startMs: T0 + 15 * MIN, energy: 11.25, estimatedEnergy: 11.25, estimated: true, unknown: 0 },
      { startMs: T0 + 30 * MIN, energy: 7.5, estimatedEnergy: 7.5, estimated: true, unknown: 0 },
    ]);
  });

  it('adds the measured deltas of a window to the share of a gap it receives', () => {
    // 0 at 0, 5 at 5, gap to 25 at 25 (20 kWh over 20 min: 10 to [0, 15), 10 to [15, 30)), 30 at 30
    const deltas = registerDeltas({ readings: [at(0, 0), at(5, 5), at(25, 25), at(30, 30)], meter: METER });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0, energy: 15, estimatedEnergy: 10, estimated: true, unknown: 0 },
      { startMs: T0 + 15 * MIN, energy: 15, estimatedEnergy: 10, estimated: true, unknown: 0 },
    ]);
  });

  it('does not bridge a silence longer than 35 days: its delta is booked nowhere', () => {
    // 0 at 0, silent 36 days, 864 at day 36 00:00, 865 at 00:05: only the last 5 minutes' 1 kWh is booked
    const day = 24 * 60;
    const deltas = registerDeltas({
      readings: [at(0, 0), at(36 * day, 864), at(36 * day + 5, 865)],
      meter: METER,
    });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0 + 36 * day * MIN, energy: 1, estimatedEnergy: 0, estimated: false, unknown: 0 },
    ]);
  });

  it('has no value for a window whose only delta is unknown', () => {
    const deltas = registerDeltas({ readings: [at(0, 5000), at(5, 12)], meter: METER });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0, energy: null, estimatedEnergy: 0, estimated: false, unknown: 1 },
    ]);
  });
});

describe('meters that go silent: the gap spread, every KPI a ratio of the same windows', () => {
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  /** Readings of a constant load every 15 minutes over [fromMs, toMs], none inside `silent` ([from, to) in ms). */
  const constant = (
    kw: number,
    fromMs: number,
    toMs: number,
    silent?: [number, number],
  ): RegisterReading[] => {
    const out: RegisterReading[] = [];
    for (let t = fromMs; t <= toMs; t += 15 * MIN)
      if (!silent || t < silent[0] || t >= silent[1])
        out.push({ tsMs: t, value: (kw * (t - fromMs)) / HOUR });
    return out;
  };
  const daily = (readings: RegisterReading[]) =>
    bookIntoWindows({ deltas: registerDeltas({ readings, meter: { intervalMs: 15 * MIN } }), windowMs: DAY });

  it('gives a data centre whose IT meter is silent for a day its true 3-day PUE (1.30, not 0.867)', () => {
    // facility 1,300 kWh/day (54.1667 kW), IT 1,000 kWh/day (41.6667 kW) for 3 days; the IT meter sends nothing
    // on day 2 but its register keeps counting: the first reading of day 3 carries day 2's energy too.
    const facility = daily(constant(1300 / 24, T0, T0 + 3 * DAY));
    const it = daily(constant(1000 / 24, T0, T0 + 3 * DAY, [T0 + DAY + 1, T0 + 2 * DAY + 1]));
    // by hand: the gap runs from the last reading of day 1 (at 24:00) to the first of day 3 (at 48:15), 24¼ h of
    // 41.6667 kW = 1,010.42 kWh, spread by time: day 2 gets 24 h of it = 1,000, day 3 the ¼ h = 10.42 (its own)
    expect(it.map((w) => Math.round(w.energy! * 100) / 100)).toEqual([1000, 1000, 1000]);
    expect(it.map((w) => w.estimated)).toEqual([false, true, true]);
    const sum = (ws: WindowEnergy[]): number => ws.reduce((s, w) => s + w.energy!, 0);
    expect(pue({ facilityKwh: sum(facility), itKwh: sum(it) })).toBeCloseTo(1.3, 9); // 3,900 / 3,000
    // and each day's own PUE is 1.30, the silent day's too (estimated)
    for (let d = 0; d < 3; d++)
      expect(pue({ facilityKwh: facility[d]!.energy!, itKwh: it[d]!.energy! })).toBeCloseTo(1.3, 9);
  });

  it('gives an office at a steady 100 kW with a 1-hour gap its true peak demand (100 kW, not 400)', () => {
    // readings every 15 minutes, none from 10:15 to 11:00: the delta 10:00 → 11:00 is 100 kWh over an hour
    const quarters = bookIntoWindows({
      deltas: registerDeltas({
        readings: constant(100, T0, T0 + DAY, [T0 + 10 * HOUR + 1, T0 + 11 * HOUR]),
        meter: { intervalMs: 15 * MIN },
      }),
      windowMs: 15 * MIN,
    });
    // by hand: 100 kWh over 60 minutes, 25 kWh to each quarter of the hour, estimated
    const gapHour = quarters.filter((q) => q.startMs >= T0 + 10 * HOUR && q.startMs < T0 + 11 * HOUR);
    expect(gapHour.map((q) => [q.energy, q.estimatedEnergy])).toEqual([
      [25, 25],
      [25, 25],
      [25, 25],
      [25, 25],
    ]);
    // the peak of the measured quarters: 25 kWh in 15 minutes = 100 kW
    const measured = quarters.filter((q) => !q.estimated);
    expect(measured).toHaveLength(96 - 4);
    expect(peakDemand(measured)?.kw).toBe(100);
  });
});
