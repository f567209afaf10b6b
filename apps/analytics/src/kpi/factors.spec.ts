import { join } from 'node:path';
import { loadPolicyData } from '@peakwatch/policy';
import { kpiFactorsFor } from './factors';

const policy = loadPolicyData(join(__dirname, '../../../../seeds'));

describe('kpiFactorsFor', () => {
  it('takes the grid factor of the year, or the latest published before it', () => {
    expect(kpiFactorsFor(policy, 2022).gridKgCo2PerKwh).toBe(0.5366);
    expect(kpiFactorsFor(policy, 2026).gridKgCo2PerKwh).toBe(0.5306); // 2023 is the latest in seeds/
  });

  it('converts the heat coefficient to kWh: 0.03412 kgce/MJ × 3.6 MJ/kWh = 0.122832 kgce/kWh', () => {
    const { gasKgCo2PerM3, coal } = kpiFactorsFor(policy, 2026);
    expect(gasKgCo2PerM3).toBe(2.162);
    expect(coal.electricityKgcePerKwh).toBe(0.1229);
    expect(coal.heatKgcePerKwh).toBeCloseTo(0.122832, 12);
    expect(kpiFactorsFor(policy, 2026, 'generation').coal.electricityKgcePerKwh).toBe(0.3);
  });

  it("carries Haidian's +10-point renewable step for data centres commissioned from 2024-05-28", () => {
    expect(kpiFactorsFor(policy, 2026).dcRenewableTrajectory).toEqual({
      stepPerYear: 0.1,
      appliesFrom: '2024-05-28',
    });
  });

  it("reads the heat pumps' minimum seasonal performance factor from seeds/policy (EU RED: 2.5 at η = 45.5 %)", () => {
    expect(kpiFactorsFor(policy, 2026).heatPumpMinSpf).toBe(2.5);
  });

  it('uses the factors published by the last day of the period: November 2024 keeps its factor after later ones', () => {
    expect(kpiFactorsFor(policy, 2024, 'calorific', '2024-11-30').gridKgCo2PerKwh).toBe(0.5568);
    expect(kpiFactorsFor(policy, 2024, 'calorific', '2024-12-31').gridKgCo2PerKwh).toBe(0.5366);
    expect(kpiFactorsFor(policy, 2026, 'calorific', '2026-11-30').gridKgCo2PerKwh).toBe(0.5306);
  });

  it('names what is missing', () => {
    expect(() => kpiFactorsFor(policy, 2015)).toThrow(
      'seeds has no electricity_grid factor for region cn valid for 2015',
    );
  });
});
