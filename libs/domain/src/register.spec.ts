import { bookIntoWindows, registerDeltas, type RegisterReading } from './register';

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
      { startMs: T0, energy: 6, estimated: false, unknown: 0 }, // 1 + 2 + 3 (the reading at 15 closes the window)
      { startMs: T0 + 15 * MIN, energy: 4, estimated: false, unknown: 0 },
    ]);
  });

  it('never interpolates: the energy across a gap lands whole where the gap ends, estimated', () => {
    // 100 at 0, then nothing until 100 at minute 40 → 130: window [30, 45) gets all 30 kWh
    const deltas = registerDeltas({ readings: [at(0, 100), at(40, 130)], meter: METER });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0 + 30 * MIN, energy: 30, estimated: true, unknown: 0 },
    ]);
  });

  it('has no value for a window whose only delta is unknown', () => {
    const deltas = registerDeltas({ readings: [at(0, 5000), at(5, 12)], meter: METER });
    expect(bookIntoWindows({ deltas, windowMs: 15 * MIN })).toEqual([
      { startMs: T0, energy: null, estimated: false, unknown: 1 },
    ]);
  });
});
