import { join } from 'node:path';
import { loadPolicyData } from '@peakwatch/policy';
import { forSite, kpiFactorsFor } from './factors';

const policy = loadPolicyData(join(__dirname, '../../../seeds'));

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
    expect(kpiFactorsFor(policy, 2026).generationKgcePerKwh).toBe(0.3);
  });

  it('takes gas as Beijing is supplied (gas-field gas, 1.2143 kgce/m³), and heat at 0.11 tCO2/GJ', () => {
    const factors = kpiFactorsFor(policy, 2026);
    expect(factors.coal.gasKgcePerM3).toBe(1.2143);
    expect(factors.gasNcvKjPerM3).toBe(38931); // the heating value the gas CO2 default is computed at
    expect(factors.heatTCo2PerGj).toBe(0.11);
  });

  it("gives a baseline year's CO2 factors, whatever the period (one factor for both years of a reduction)", () => {
    expect(kpiFactorsFor(policy, 2026, '2026-11-30').baselineCo2!(2022)).toEqual({
      gridKgCo2PerKwh: 0.5366,
      gasKgCo2PerM3: 2.162,
      heatTCo2PerGj: 0.11,
    });
    // before the first seeded grid factor (2021's, 0.5568): that first one
    expect(kpiFactorsFor(policy, 2026).baselineCo2!(2019).gridKgCo2PerKwh).toBe(0.5568);
    // as published by the period's end: in November 2024 the factor for 2022 (out on 1 December 2024) was not, so
    // 2021's stands for it, and stays so for that period whatever is published later
    expect(kpiFactorsFor(policy, 2024, '2024-11-30').baselineCo2!(2022).gridKgCo2PerKwh).toBe(0.5568);
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
    expect(kpiFactorsFor(policy, 2024, '2024-11-30').gridKgCo2PerKwh).toBe(0.5568);
    expect(kpiFactorsFor(policy, 2024, '2024-12-31').gridKgCo2PerKwh).toBe(0.5366);
    expect(kpiFactorsFor(policy, 2026, '2026-11-30').gridKgCo2PerKwh).toBe(0.5306);
  });

  it('names what is missing', () => {
    expect(() => kpiFactorsFor(policy, 2015)).toThrow(
      'seeds has no electricity_grid factor for region cn valid for 2015',
    );
  });

  it("follows a site's declared gas heating value in its coal equivalent and CO2, the baseline year's too", () => {
    const factors = kpiFactorsFor(policy, 2026);
    // by hand: 36,000 kJ/m³ ÷ 29,307 kJ/kgce = 1.228375 kgce/m³; CO2 2.162 × 36,000 / 38,931 = 1.999238 kg/m³
    const own = forSite({ gasHeatingValueKjPerM3: 36_000 }, factors);
    expect(own.coal.gasKgcePerM3).toBeCloseTo(36_000 / 29_307, 9);
    expect(own.gasKgCo2PerM3).toBeCloseTo((2.162 * 36_000) / 38_931, 9);
    expect(own.baselineCo2!(2022).gasKgCo2PerM3).toBeCloseTo((2.162 * 36_000) / 38_931, 9);
    // the rest as the defaults; a site declaring nothing has the defaults
    expect(own.gridKgCo2PerKwh).toBe(factors.gridKgCo2PerKwh);
    expect(own.coal.electricityKgcePerKwh).toBe(0.1229);
    expect(forSite({}, factors)).toBe(factors);
  });
});
