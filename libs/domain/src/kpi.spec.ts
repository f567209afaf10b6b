import {
  annualisedIntensity,
  completeness,
  electricityCo2LocationT,
  electricityCo2MarketT,
  energyIntensity,
  gasCo2T,
  heatCo2T,
  comprehensiveEnergyKgce,
  gasKgcePerM3,
  heatPumpRenewableKwh,
  intensityAgainstStandard,
  peakDemand,
  performanceFactor,
  performanceRatio,
  pue,
  pueTariffCny,
  pueOfWindows,
  reduction,
  elapsedShare,
  judgedSpan,
  projectedQuotaUse,
  reductionAgainstBaseline,
  renewableShare,
  renewableTrajectoryTarget,
  selfConsumption,
  selfSufficiency,
} from './kpi';

describe('PUE (ISO/IEC 30134-2)', () => {
  it.each([
    [1380, 1000, 1.38],
    [500, 0, null], // no IT energy: no PUE
  ])('%s / %s kWh = %s', (facilityKwh, itKwh, expected) => {
    expect(pue({ facilityKwh, itKwh })).toBe(expected);
  });

  it('is the ratio of sums over windows, not the mean of the ratios', () => {
    // winter 1,250/1,000 = 1.25, summer 3,000/2,000 = 1.5; mean of ratios 1.375, but (1,250 + 3,000)/(1,000 + 2,000) = 1.41667
    expect(
      pueOfWindows([
        { facilityKwh: 1250, itKwh: 1000 },
        { facilityKwh: 3000, itKwh: 2000 },
      ]),
    ).toBeCloseTo(4250 / 3000, 12);
  });
});

describe('heat pumps', () => {
  it('COP/SPF = heat ÷ electricity', () => {
    expect(performanceFactor({ heatKwh: 3600, electricKwh: 1200 })).toBe(3);
    expect(performanceFactor({ heatKwh: 0, electricKwh: 0 })).toBeNull();
  });

  it.each([
    // SPF 3: 9,000 × (1 − 1/3) = 6,000 kWh renewable
    [9000, 3, 6000],
    // SPF 2.5 exactly does not exceed the minimum 2.5 (Annex VII: SPF > 1.15/η): no credit
    [1000, 2.5, 0],
    // SPF 2.6: 1,000 × (1 − 1/2.6) = 615.38...
    [1000, 2.6, 1000 * (1 - 1 / 2.6)],
    // SPF 2.4 < 2.5: no credit
    [1000, 2.4, 0],
    [1000, null, 0],
  ])('renewable heat of %s kWh at SPF %s is %s kWh (EU RED Annex VII)', (heatKwh, spf, expected) => {
    expect(heatPumpRenewableKwh({ heatKwh, spf, minSpf: 2.5 })).toBeCloseTo(expected, 9);
  });

  // The season decides, not each day: with W = 1,000 kWh of electricity a day,
  //   10 days at SPF 2.0 (Q = 2,000/day) and 10 at SPF 3.5 (Q = 3,500/day): Q = 55,000, W = 20,000, SPF 2.75 > 2.5,
  //   E_RES = 55,000 × (1 − 1/2.75) = 55,000 − 20,000 = 35,000 kWh (day by day: only the 10 good days,
  //   10 × 3,500 × (1 − 1/3.5) = 25,000);
  //   20 days at SPF 2.0 and 5 at 3.0: Q = 40,000 + 15,000 = 55,000, W = 25,000, SPF 2.2 ≤ 2.5: 0 kWh (day by day:
  //   5 × 3,000 × (1 − 1/3) = 10,000).
  it.each([
    [
      '10 days at SPF 2.0, 10 at 3.5',
      [...Array<number>(10).fill(2.0), ...Array<number>(10).fill(3.5)],
      35_000,
      25_000,
    ],
    [
      '20 days at SPF 2.0, 5 at 3.0',
      [...Array<number>(20).fill(2.0), ...Array<number>(5).fill(3.0)],
      0,
      10_000,
    ],
  ])('credits a season by its SPF: %s', (_name, spfs: number[], seasonal, dayByDay) => {
    const days = spfs.map((spf) => ({ heatKwh: 1000 * spf, electricKwh: 1000 }));
    const q = days.reduce((s, d) => s + d.heatKwh, 0);
    const w = days.reduce((s, d) => s + d.electricKwh, 0);
    expect(
      heatPumpRenewableKwh({
        heatKwh: q,
        spf: performanceFactor({ heatKwh: q, electricKwh: w }),
        minSpf: 2.5,
      }),
    ).toBeCloseTo(seasonal, 6);
    const perDay = days.reduce(
      (s, d) => s + heatPumpRenewableKwh({ heatKwh: d.heatKwh, spf: d.heatKwh / d.electricKwh, minSpf: 2.5 }),
      0,
    );
    expect(perDay).toBeCloseTo(dayByDay, 6);
  });
});

describe('buildings', () => {
  it('EUI = kWh ÷ m²', () => {
    expect(energyIntensity({ energyKwh: 2_400_000, floorAreaM2: 24_000 })).toBe(100);
  });

  it('annualises a year to date: 50 kWh/m² after 73 of 365 days → 250 kWh/m²·a', () => {
    expect(
      annualisedIntensity({ energyKwh: 1_200_000, floorAreaM2: 24_000, daysElapsed: 73, daysInYear: 365 }),
    ).toBeCloseTo(250, 9);
  });

  it('reduction against a baseline: 92 vs 100 kWh/m² is 8%', () => {
    expect(reduction({ current: 92, baseline: 100 })).toBeCloseTo(0.08, 12);
  });
});

describe('PV (IEC 61724-1)', () => {
  it('PR = (E/P0) ÷ (H/1 kW/m²): 390 kWh from 300 kWp under 1.5 kWh/m² → 1.3 / 1.5 = 0.8667', () => {
    expect(performanceRatio({ energyKwh: 390, peakPowerKwp: 300, irradiationKwhM2: 1.5 })).toBeCloseTo(
      1.3 / 1.5,
      12,
    );
  });

  it('self-consumption and self-sufficiency', () => {
    // 1,000 generated, 200 exported: 800 used on site; site consumed 4,000
    expect(selfConsumption({ generationKwh: 1000, exportKwh: 200 })).toBe(0.8);
    expect(selfSufficiency({ generationKwh: 1000, exportKwh: 200, consumptionKwh: 4000 })).toBe(0.2);
  });
});

describe('carbon', () => {
  it('location-based electricity: 100,000 kWh × 0.5703 kg/kWh = 57.03 t', () => {
    expect(electricityCo2LocationT({ importKwh: 100_000, factorKgPerKwh: 0.5703 })).toBeCloseTo(57.03, 9);
    // exports deducted at the same factor (GB/T 32150): (100,000 − 30,000) × 0.5703 kg = 39.921 t; more exported
    // than bought is negative
    expect(
      electricityCo2LocationT({ importKwh: 100_000, exportKwh: 30_000, factorKgPerKwh: 0.5703 }),
    ).toBeCloseTo(39.921, 9);
    expect(electricityCo2LocationT({ importKwh: 1_000, exportKwh: 3_000, factorKgPerKwh: 0.5 })).toBeCloseTo(
      -1,
      12,
    );
  });

  it('market-based: 30 certificates cover 30,000 of 100,000 kWh; 70,000 × 0.6096 = 42.672 t', () => {
    expect(
      electricityCo2MarketT({ gridKwh: 100_000, greenPowerKwh: 30_000, residualFactorKgPerKwh: 0.6096 }),
    ).toBeCloseTo(42.672, 9);
    expect(
      electricityCo2MarketT({ gridKwh: 10_000, greenPowerKwh: 30_000, residualFactorKgPerKwh: 0.6 }),
    ).toBe(0);
  });

  it('gas and heat: 1,000 m³ × 2.162 = 2.162 t; 100 GJ × 0.11 = 11 t', () => {
    expect(gasCo2T({ gasM3: 1000, factorKgPerM3: 2.162 })).toBeCloseTo(2.162, 12);
    expect(heatCo2T({ heatGj: 100, factorTPerGj: 0.11 })).toBeCloseTo(11, 12);
  });
});

describe('comprehensive energy (GB/T 2589)', () => {
  it('adds every carrier at its coal equivalent: 100,000 kWh, 10,000 m³ of gas, 50,000 kWh of heat', () => {
    // 100,000 × 0.1229 + 10,000 × 1.2143 + 50,000 × 3.6 MJ × 0.03412 kgce/MJ = 12,290 + 12,143 + 6,141.6 kgce
    expect(
      comprehensiveEnergyKgce({
        electricityKwh: 100_000,
        gasM3: 10_000,
        heatKwh: 50_000,
        coefficients: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.2143, heatKgcePerKwh: 3.6 * 0.03412 },
      }),
    ).toBeCloseTo(30_574.6, 6);
  });

  it("converts a supplier's gas heating value: 35,544 kJ/m³ ÷ 29,307 kJ/kgce", () => {
    // the table's 1.2143 is 8,500 kcal ÷ 7,000 kcal; 35,544 kJ is 8,489.5 kcal, so 1.21282
    expect(gasKgcePerM3({ heatingValueKjPerM3: 35_544 })).toBeCloseTo(1.21282, 5);
    expect(gasKgcePerM3({ heatingValueKjPerM3: 7000 * 4.1868 })).toBeCloseTo(1, 4);
  });
});

describe('renewable share in tce', () => {
  const base = {
    electricityKwh: 100_000,
    pvConsumedKwh: 10_000,
    greenPowerKwh: 5000,
    renewableHeatKwh: 0,
    gasM3: 0,
    purchasedHeatKwh: 0,
  };

  it('electricity only: (10,000 + 5 × 1,000) / 100,000 = 15% whatever the coefficient', () => {
    const calorific = renewableShare({
      ...base,
      coefficients: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.33, heatKgcePerKwh: 0.1229 },
    });
    expect(calorific.share).toBeCloseTo(0.15, 12);
    expect(calorific.renewableTce).toBeCloseTo((15_000 * 0.1229) / 1000, 12); // 1.8435 tce
  });

  it('with gas, the electricity method matters: calorific 1.8435 / (12.29 + 13.3) vs generation 4.5 / (30 + 13.3)', () => {
    const withGas = { ...base, gasM3: 10_000 };
    const calorific = renewableShare({
      ...withGas,
      coefficients: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.33, heatKgcePerKwh: 0.1229 },
    });
    const generation = renewableShare({
      ...withGas,
      coefficients: { electricityKgcePerKwh: 0.3, gasKgcePerM3: 1.33, heatKgcePerKwh: 0.1229 },
    });
    expect(calorific.share).toBeCloseTo(1.8435 / (12.29 + 13.3), 9);
    expect(generation.share).toBeCloseTo(4.5 / (30 + 13.3), 9);
  });

  it('has no share without consumption', () => {
    expect(
      renewableShare({
        ...base,
        electricityKwh: 0,
        pvConsumedKwh: 0,
        greenPowerKwh: 0,
        coefficients: { electricityKgcePerKwh: 0.1229, gasKgcePerM3: 1.33, heatKgcePerKwh: 0.1229 },
      }).share,
    ).toBeNull();
  });
});

describe('data quality and demand', () => {
  it('completeness = received ÷ expected, 0 without expectation', () => {
    expect(completeness({ received: 87, expected: 96 })).toBeCloseTo(0.90625, 12);
    expect(completeness({ received: 0, expected: 0 })).toBe(0);
  });

  it('peak demand = the largest quarter-hour energy × 4, at the start of its first quarter', () => {
    const q = (startMs: number, energy: number | null) => ({ startMs, energy });
    expect(peakDemand([q(0, 10), q(900, null), q(1800, 37.5), q(2700, 20), q(3600, 37.5)])).toEqual({
      kw: 150,
      atMs: 1800,
    });
    expect(peakDemand([q(0, null)])).toBeNull();
    expect(peakDemand([])).toBeNull();
  });
});

describe('intensityAgainstStandard (GB/T 51161-2016)', () => {
  // cold-zone office class A: constraint 102, guide 70.5 kWh/m²·a (seeds/policy)
  it.each<[number, number, number | null, string]>([
    [110, 110 / 102, 110 / 70.5, 'above_constraint'],
    [90, 90 / 102, 90 / 70.5, 'between_guide_and_constraint'],
    [70.5, 70.5 / 102, 1, 'at_or_below_guide'],
  ])('%d kWh/m² is %s of the constraint', (eui, ofConstraint, ofGuide, status) => {
    expect(intensityAgainstStandard({ euiKwhM2: eui, constraintKwhM2: 102, guideKwhM2: 70.5 })).toEqual({
      ofConstraint,
      ofGuide,
      status,
    });
  });

  it('without a guide value only says whether the constraint holds', () => {
    expect(intensityAgainstStandard({ euiKwhM2: 100, constraintKwhM2: 117 }).status).toBe(
      'within_constraint',
    );
  });
});

describe('renewableTrajectoryTarget', () => {
  it('adds the step for each whole year since commissioning, capped at 100%', () => {
    // commissioned 2024, +10 points a year: 2024 → 0, 2026 → 20%, 2040 → 100% (not 160%)
    expect(renewableTrajectoryTarget({ commissionedYear: 2024, year: 2024, stepPerYear: 0.1 })).toBe(0);
    expect(renewableTrajectoryTarget({ commissionedYear: 2024, year: 2026, stepPerYear: 0.1 })).toBeCloseTo(
      0.2,
      12,
    );
    expect(renewableTrajectoryTarget({ commissionedYear: 2024, year: 2040, stepPerYear: 0.1 })).toBe(1);
    expect(
      renewableTrajectoryTarget({ commissionedYear: 2024, year: 2025, stepPerYear: 0.1, startShare: 0.3 }),
    ).toBeCloseTo(0.4, 12);
    expect(renewableTrajectoryTarget({ commissionedYear: 2026, year: 2025, stepPerYear: 0.1 })).toBe(0);
  });
});

describe('pueTariffCny (differential tariff over the PUE limit)', () => {
  it.each([
    // facility, IT, limit 1.35: allowed = 1.35 × IT
    [1300, 1000, 0], // PUE 1.3: within the limit, no surcharge
    [1450, 1000, (1450 - 1350) * 0.2], // 100 kWh over: 20 CNY
    [3000, 1000, 1350 * 0.2 + (3000 - 1350 - 1350) * 0.5], // over by more than 1×: 270 + 150 CNY
  ])('facility %d kWh, IT %d kWh → %d CNY', (facilityKwh, itKwh, expected) => {
    expect(
      pueTariffCny({ facilityKwh, itKwh, limit: 1.35, withinCnyPerKwh: 0.2, beyondCnyPerKwh: 0.5 }),
    ).toBeCloseTo(expected, 9);
  });
});

describe('elapsedShare', () => {
  const YEAR_START = Date.UTC(2025, 11, 31, 16); // 1 January 2026, Beijing
  const YEAR_END = Date.UTC(2026, 11, 31, 16);
  it('is the share of the window elapsed, 1 once it is closed', () => {
    // 1 July 2026 00:00 Beijing: 181 of 365 days
    const july = Date.UTC(2026, 5, 30, 16);
    expect(elapsedShare({ windowStartMs: YEAR_START, windowEndMs: YEAR_END, asOfMs: july })).toBeCloseTo(
      181 / 365,
      12,
    );
    expect(elapsedShare({ windowStartMs: YEAR_START, windowEndMs: YEAR_END, asOfMs: YEAR_END + 5 })).toBe(1);
    expect(elapsedShare({ windowStartMs: YEAR_START, windowEndMs: YEAR_END, asOfMs: YEAR_START - 5 })).toBe(
      0,
    );
  });
});

describe('reductionAgainstBaseline', () => {
  it('projects the intensity so far by the time elapsed, and a closed year not at all', () => {
    // half a year elapsed at 45 kWh/m² → 90 kWh/m²·a against a baseline of 98: 1 − 90/98 = 8.16% less
    expect(reductionAgainstBaseline({ intensity: 45, elapsed: 0.5, baseline: 98 })).toBeCloseTo(
      1 - 90 / 98,
      12,
    );
    // a whole year above the baseline: a negative reduction
    expect(reductionAgainstBaseline({ intensity: 105, elapsed: 1, baseline: 100 })).toBeCloseTo(-0.05, 12);
    expect(reductionAgainstBaseline({ intensity: 5, elapsed: 0.05, baseline: 98 })).toBeNull();
  });

  it('gives a closed year at 8% below its baseline 8%, though 5% of its readings were lost', () => {
    // the registers kept counting, so the year's energy is whole: 92 kWh/m² against 100. Annualised by the
    // readings' completeness (0.95) it would have read 92 / 0.95 = 96.84, a reduction of 3.2%.
    expect(reductionAgainstBaseline({ intensity: 92, elapsed: 1, baseline: 100 })).toBeCloseTo(0.08, 12);
  });
});

describe('projectedQuotaUse', () => {
  it('projects the year so far to the year end against the quota, by the time elapsed', () => {
    // a quarter of the year elapsed used 600,000 kWh: 2,400,000 a year against a quota of 2,000,000 = 120%
    expect(projectedQuotaUse({ energyKwh: 600_000, elapsed: 0.25, quotaKwh: 2_000_000 })).toBeCloseTo(
      1.2,
      12,
    );
    expect(projectedQuotaUse({ energyKwh: 1000, elapsed: 0.05, quotaKwh: 2_000_000 })).toBeNull();
    // a closed year is its own use: 2,100,000 of 2,000,000
    expect(projectedQuotaUse({ energyKwh: 2_100_000, elapsed: 1, quotaKwh: 2_000_000 })).toBeCloseTo(
      1.05,
      12,
    );
  });
});

describe('judgedSpan: the part of a window an alert judges', () => {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const YEAR_START = Date.UTC(2025, 11, 31, 16); // 1 January 2026, Beijing
  const YEAR_END = YEAR_START + 365 * DAY;

  it('judges a day on which monitoring began at 10:00 on its 14 hours', () => {
    // 14 of 24 hours monitored, every reading of them received: stored completeness 14/24 = 0.5833
    const span = judgedSpan({
      windowStartMs: YEAR_START,
      windowEndMs: YEAR_START + DAY,
      nowMs: YEAR_START + 3 * DAY,
      monitoredFromMs: YEAR_START + 10 * HOUR,
      completeness: 14 / 24,
    })!;
    expect(span.fromMs).toBe(YEAR_START + 10 * HOUR);
    expect(span.share).toBeCloseTo(14 / 24, 12);
    expect(span.completeness).toBeCloseTo(1, 12);
  });

  it('judges a rolling 12 months begun before monitoring on the two days since, and their gaps still count', () => {
    // monitored since 00:00 on 29 November 2026, now 00:00 on 1 December: 2 of 365 days; the stored completeness of
    // the 12 months counts those 2 days of 365, and half of one day's readings missing leaves 1.5 of them
    const windowStartMs = YEAR_START - 30 * DAY; // any 365-day window holding the two days
    const windowEndMs = windowStartMs + 365 * DAY;
    const monitoredFromMs = windowEndMs - 2 * DAY;
    const span = judgedSpan({
      windowStartMs,
      windowEndMs,
      nowMs: windowEndMs,
      monitoredFromMs,
      completeness: 1.5 / 365,
    })!;
    expect(span.fromMs).toBe(monitoredFromMs);
    expect(span.share).toBeCloseTo(2 / 365, 12);
    expect(span.completeness).toBeCloseTo(0.75, 12);
  });

  it('judges a year to date on the days elapsed, not the whole year', () => {
    // 1 July 00:00: 181 days elapsed of a site monitored for years, all readings received: 181/365 stored
    const span = judgedSpan({
      windowStartMs: YEAR_START,
      windowEndMs: YEAR_END,
      nowMs: YEAR_START + 181 * DAY,
      monitoredFromMs: YEAR_START - 400 * DAY,
      completeness: 181 / 365,
    })!;
    expect(span.fromMs).toBe(YEAR_START);
    expect(span.share).toBeCloseTo(181 / 365, 12);
    expect(span.completeness).toBeCloseTo(1, 12);
  });

  it('judges a closed window whole, and nothing of a window not yet monitored', () => {
    expect(
      judgedSpan({
        windowStartMs: YEAR_START,
        windowEndMs: YEAR_END,
        nowMs: YEAR_END + DAY,
        monitoredFromMs: YEAR_START - DAY,
        completeness: 0.8,
      }),
    ).toEqual({ fromMs: YEAR_START, share: 1, completeness: 0.8 });
    expect(
      judgedSpan({
        windowStartMs: YEAR_START,
        windowEndMs: YEAR_END,
        nowMs: YEAR_START + DAY,
        monitoredFromMs: YEAR_START + 2 * DAY,
        completeness: 0,
      }),
    ).toBeNull();
  });
});
