import { averagePower, energyFromPower } from './energy';

describe('energyFromPower', () => {
  it.each([
    // 12 kW for 15 min = 12 × 0.25 h = 3 kWh
    { powerKw: 12, intervalMs: 15 * 60_000, expected: 3 },
    // 0.5 kW for 2 h = 1 kWh
    { powerKw: 0.5, intervalMs: 2 * 3_600_000, expected: 1 },
    // nothing flows over an empty interval
    { powerKw: 100, intervalMs: 0, expected: 0 },
  ])('$powerKw kW over $intervalMs ms is $expected kWh', ({ powerKw, intervalMs, expected }) => {
    expect(energyFromPower({ powerKw, intervalMs })).toBeCloseTo(expected, 12);
  });
});

describe('averagePower', () => {
  it.each([
    // 3 kWh in 15 min = 3 / 0.25 h = 12 kW
    { energyKwh: 3, intervalMs: 15 * 60_000, expected: 12 },
    // 1 kWh in 2 h = 0.5 kW
    { energyKwh: 1, intervalMs: 7_200_000, expected: 0.5 },
  ])('$energyKwh kWh over $intervalMs ms is $expected kW', ({ energyKwh, intervalMs, expected }) => {
    expect(averagePower({ energyKwh, intervalMs })).toBeCloseTo(expected, 12);
  });

  it('has no value for an empty interval', () => {
    expect(averagePower({ energyKwh: 1, intervalMs: 0 })).toBeNull();
  });
});
