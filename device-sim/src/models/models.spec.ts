import { localTime } from './clock';
import { clearSkyIrradiance, cloudyIrradiance, cosZenith, type Location } from './solar';
import { pvPowerKw, DEFAULT_PV } from './pv';
import { dataCentrePowerKw, interimPue, DEFAULT_DATA_CENTRE } from './data-centre';
import { copAt, flowTemperatureC, heatPumpState, inHeatingSeason, DEFAULT_HEAT_PUMP } from './heat-pump';
import { districtHeatKw } from './district-heat';
import { officeLoadKw } from './office';
import { BEIJING_CLIMATE, outdoorTemperatureC } from './weather';

const BEIJING: Location = { latitudeDeg: 39.9, longitudeDeg: 116.4, utcOffsetHours: 8 };
const beijing = (iso: string): number => Date.parse(`${iso}+08:00`);

describe('solar position (Spencer 1971) and clear-sky irradiance (Haurwitz 1945)', () => {
  it('puts the summer-solstice noon sun at 90° − 39.9° + 23.44° = 73.5° elevation', () => {
    // Solar noon in Beijing is about 12:14 (120° E meridian vs 116.4° E: 3.6° × 4 min = 14.4 min; EoT ≈ −1.7 min).
    const cosZ = cosZenith({ tsMs: beijing('2025-06-21T12:16:00'), location: BEIJING });
    expect(Math.asin(cosZ) / (Math.PI / 180)).toBeCloseTo(73.5, 0);
  });

  it('puts the winter-solstice noon sun at 90° − 39.9° − 23.44° = 26.7° elevation', () => {
    const cosZ = cosZenith({ tsMs: beijing('2025-12-21T12:12:00'), location: BEIJING });
    expect(Math.asin(cosZ) / (Math.PI / 180)).toBeCloseTo(26.7, 0);
  });

  it('has the sun below the horizon at midnight', () => {
    expect(cosZenith({ tsMs: beijing('2025-06-21T00:00:00'), location: BEIJING })).toBeLessThan(0);
    expect(clearSkyIrradiance(-0.5)).toBe(0);
  });

  it.each([
    // 1098 · 1 · exp(−0.057) = 1098 × 0.94459 = 1037.2
    [1, 1037.2],
    // 1098 · 0.5 · exp(−0.114) = 549 × 0.89226 = 489.85
    [0.5, 489.85],
  ])('GHI at cos θz = %s is %s W/m²', (cosZ, expected) => {
    expect(clearSkyIrradiance(cosZ)).toBeCloseTo(expected, 1);
  });

  it('reduces irradiance under clouds (Kasten–Czeplak): overcast keeps 25%', () => {
    expect(cloudyIrradiance({ clearSkyWm2: 800, cloudFraction: 1 })).toBeCloseTo(200, 9); // 800 × (1 − 0.75)
    expect(cloudyIrradiance({ clearSkyWm2: 800, cloudFraction: 0 })).toBe(800);
  });
});

describe('PV', () => {
  const pv = { ...DEFAULT_PV, peakPowerKwp: 300 };

  it('produces nothing without irradiance (night)', () => {
    expect(pvPowerKw({ irradianceWm2: 0, airTempC: 20 }, pv)).toBe(0);
  });

  it('follows the NOCT model by hand at 800 W/m² and 20 °C', () => {
    // T_cell = 20 + (45 − 20)/800 × 800 = 45 °C; P = 300 × 0.8 × (1 − 0.004 × 20) × 0.9 × 0.96 = 190.77 kW
    expect(pvPowerKw({ irradianceWm2: 800, airTempC: 20 }, pv)).toBeCloseTo(300 * 0.8 * 0.92 * 0.9 * 0.96, 9);
  });

  it('never exceeds kWp, even cold and at high irradiance', () => {
    for (const g of [200, 600, 1000, 1200, 1400]) {
      for (const t of [-20, 0, 25, 40])
        expect(pvPowerKw({ irradianceWm2: g, airTempC: t }, pv)).toBeLessThanOrEqual(300);
    }
  });
});

describe('data centre', () => {
  const dc = { ...DEFAULT_DATA_CENTRE, itLoadKw: 400 };

  it.each([
    [-10, 1.25], // colder than coolTempC: the band's floor
    [15, 1.4], // half way from −5 to 35 °C: 1.25 + 0.30 × 0.5
    [40, 1.55], // hotter than warmTempC: the band's ceiling
  ])('interim PUE at %s °C is %s', (t, pue) => {
    expect(interimPue(t, dc)).toBeCloseTo(pue, 12);
  });

  it('keeps PUE inside its band whatever the noise', () => {
    const local = localTime(beijing('2025-07-01T15:00:00'), 8);
    for (const n of [-4, -1, 0, 1, 4]) {
      for (const t of [-15, 5, 25, 38]) {
        const { itKw, totalKw } = dataCentrePowerKw({ local, outdoorTempC: t, noise: [n, n] }, dc);
        expect(totalKw / itKw).toBeGreaterThanOrEqual(1.25);
        expect(totalKw / itKw).toBeLessThanOrEqual(1.55);
      }
    }
  });

  it('drifts above its band as a degrading plant: + puePerDay per day since the drift began', () => {
    const local = localTime(beijing('2025-07-01T15:00:00'), 8);
    const drifting = { ...dc, drift: { since: '+0d', puePerDay: 0.05 } };
    // 15 °C is half-way between -5 and 35 °C: interim PUE 1.25 + 0.30 / 2 = 1.40; two days later +0.10
    const at = (driftDays: number): number => {
      const { itKw, totalKw } = dataCentrePowerKw(
        { local, outdoorTempC: 15, noise: [0, 0], driftDays },
        drifting,
      );
      return totalKw / itKw;
    };
    expect(at(-1)).toBeCloseTo(1.4, 12); // before the drift
    expect(at(2)).toBeCloseTo(1.5, 12);
    // with a ceiling of 1.45, ten days of drift stop there
    const capped = { ...dc, drift: { since: '+0d', puePerDay: 0.05, upTo: 1.45 } };
    const { itKw, totalKw } = dataCentrePowerKw(
      { local, outdoorTempC: 15, noise: [0, 0], driftDays: 10 },
      capped,
    );
    expect(totalKw / itKw).toBeCloseTo(1.45, 12);
  });
});

describe('heat pump', () => {
  const hp = { ...DEFAULT_HEAT_PUMP, heatLossKwPerK: 9, ratedHeatKw: 220 };

  it('computes COP from the Carnot lift by hand', () => {
    // η · T_flow,K / (T_flow − T_out) = 0.45 × 308.15 / (35 − 7) = 4.952
    expect(copAt(7, 35, 0.45)).toBeCloseTo((0.45 * 308.15) / 28, 9);
  });

  it('follows the heating curve: 35 °C at the balance point, 55 °C at most', () => {
    expect(flowTemperatureC(16, hp)).toBe(35);
    expect(flowTemperatureC(6, hp)).toBe(45);
    expect(flowTemperatureC(-15, hp)).toBe(55);
  });

  it.each([
    // A7: flow 44 °C, 0.45 × 317.15 / 37 = 3.86 (catalogue A7/W45 ≈ 3–4)
    [7, 3.5, 4.2],
    // A−7: flow 55 °C, 0.45 × 328.15 / 62 = 2.38 (catalogue A−7/W55 ≈ 2–2.5)
    [-7, 2.0, 2.6],
  ])('gives a plausible COP at %s °C outdoor', (t, low, high) => {
    const state = heatPumpState({ local: localTime(beijing('2025-01-15T12:00:00'), 8), outdoorTempC: t }, hp);
    expect(state.cop).toBeGreaterThan(low);
    expect(state.cop).toBeLessThan(high);
    expect(state.electricKw * state.cop!).toBeCloseTo(state.heatKw, 9);
  });

  it('is off outside the heating season (15 November – 15 March)', () => {
    expect(inHeatingSeason(localTime(beijing('2025-11-14T12:00:00'), 8))).toBe(false);
    expect(inHeatingSeason(localTime(beijing('2025-11-15T12:00:00'), 8))).toBe(true);
    expect(inHeatingSeason(localTime(beijing('2025-03-15T12:00:00'), 8))).toBe(true);
    expect(inHeatingSeason(localTime(beijing('2025-03-16T12:00:00'), 8))).toBe(false);
    const summer = heatPumpState(
      { local: localTime(beijing('2025-07-01T12:00:00'), 8), outdoorTempC: 5 },
      hp,
    );
    expect(summer).toMatchObject({ heatKw: 0, electricKw: 0, cop: null });
  });
});

describe('district heat', () => {
  const building = { heatLossKwPerK: 28, balanceTempC: 16 };
  it('delivers UA × (16 °C − outdoor) in the heating season, 70 % of it at night, nothing outside it', () => {
    const at = (iso: string, outdoorTempC: number): number =>
      districtHeatKw({ local: localTime(beijing(iso), 8), outdoorTempC }, building);
    expect(at('2026-01-20T10:00:00', -4)).toBeCloseTo(28 * 20, 9); // 560 kW
    expect(at('2026-01-20T23:00:00', -4)).toBeCloseTo(28 * 20 * 0.7, 9); // 392 kW
    expect(at('2026-01-20T10:00:00', 18)).toBe(0); // above the balance point
    expect(at('2026-03-16T10:00:00', 2)).toBe(0); // the season ended on 15 March
  });
});

describe('office load', () => {
  it('sums the category densities by hand on a weekday morning at 25 °C', () => {
    // 2025-07-02 is a Wednesday. Occupied: lighting 9, HVAC 3 + 1.2 × (25 − 22) = 6.6, power 4, special 2 W/m².
    const kw = officeLoadKw({
      local: localTime(beijing('2025-07-02T09:00:00'), 8),
      outdoorTempC: 25,
      floorAreaM2: 10_000,
      loadScale: 1,
    });
    expect(kw.lighting_sockets).toBeCloseTo(90, 9);
    expect(kw.hvac).toBeCloseTo(66, 9);
    expect(kw.power).toBeCloseTo(40, 9);
    expect(kw.special).toBeCloseTo(20, 9);
  });

  it('drops to the unoccupied densities on a Sunday', () => {
    // 2025-07-06 is a Sunday: lighting 2, HVAC 0.5, power 1, special 2 W/m².
    const kw = officeLoadKw({
      local: localTime(beijing('2025-07-06T11:30:00'), 8),
      outdoorTempC: 30,
      floorAreaM2: 10_000,
      loadScale: 2,
    });
    expect(kw).toEqual({ lighting_sockets: 40, hvac: 10, power: 20, special: 40 });
  });
});

describe('Beijing outdoor temperature', () => {
  function monthlyMean(month: number, seed: number): number {
    let sum = 0;
    let n = 0;
    for (let day = 1; day <= 28; day++) {
      for (let hour = 0; hour < 24; hour++) {
        const tsMs = Date.UTC(2025, month - 1, day, hour) - 8 * 3_600_000;
        sum += outdoorTemperatureC({ tsMs, utcOffsetHours: 8, seed }, BEIJING_CLIMATE);
        n++;
      }
    }
    return sum / n;
  }

  it('is near the climate normals: January ≈ −3 °C, July ≈ 27 °C', () => {
    expect(monthlyMean(1, 3)).toBeGreaterThan(-6);
    expect(monthlyMean(1, 3)).toBeLessThan(0);
    expect(monthlyMean(7, 3)).toBeGreaterThan(24);
    expect(monthlyMean(7, 3)).toBeLessThan(30);
  });

  it('is warmest in the afternoon', () => {
    const at = (h: number): number =>
      outdoorTemperatureC(
        { tsMs: beijing(`2025-04-10T${String(h).padStart(2, '0')}:00:00`), utcOffsetHours: 8, seed: 1 },
        { ...BEIJING_CLIMATE, dayToDayStdC: 0 },
      );
    expect(at(15)).toBeGreaterThan(at(3) + 9); // diurnal amplitude 5 K: 15:00 is 10 K warmer than 03:00
  });
});
