import { join } from 'node:path';
import { quarterPrice } from '@peakwatch/domain';
import { DataFileError, Registry, type FileProblem, type Site } from '@peakwatch/registry';
import { loadPolicyData } from './policy-data';
import { checkSiteTariffs, tariffFileSchema, tariffsOf } from './tariffs';

const SEEDS = join(__dirname, '../../../seeds');
const UTC8 = 8 * 3_600_000;
/** 00:00 of a Beijing date, as UTC ms. */
const beijing = (date: string, hhmm = '00:00'): number => Date.parse(`${date}T${hhmm}:00+08:00`);

describe('time-of-use tariffs (seeds/tariffs)', () => {
  const { tariffs } = loadPolicyData(SEEDS);
  const price = (tariff: string, date: string, hhmm: string) =>
    quarterPrice({
      divisions: tariffs.divisions,
      versions: tariffs.versions(tariff),
      startMs: beijing(date, hhmm),
      utcOffsetMs: UTC8,
    });

  it("divides Beijing's day into 8 hours each of peak, flat and valley, peak 3 h by day and 5 h in the evening", () => {
    // by hand from 京发改规〔2023〕11号: valley 23–07, flat 07–10, 13–17, 22–23, peak 10–13, 17–22
    const expected = 'vvvvvvvfffpppffffpppppfv';
    const hours = Array.from({ length: 24 }, (_, h) =>
      price('bj-single-part-below-1kv', '2026-03-10', `${String(h).padStart(2, '0')}:45`)!.band.charAt(0),
    ).join('');
    expect(hours).toBe(expected);
  });

  it('prices critical hours in July, August, January and December only where the tariff has a critical price', () => {
    // 1–10 kV single-part: 1.8 : 1 : 0.3 of 0.66, critical at peak × 1.2
    expect(price('bj-single-part-1-10kv', '2026-07-15', '11:30')).toEqual({
      band: 'critical',
      cnyPerKwh: 1.4256,
    });
    expect(price('bj-single-part-1-10kv', '2026-08-15', '16:15')).toEqual({
      band: 'critical',
      cnyPerKwh: 1.4256,
    });
    expect(price('bj-single-part-1-10kv', '2026-12-01', '20:45')).toEqual({
      band: 'critical',
      cnyPerKwh: 1.4256,
    });
    expect(price('bj-single-part-1-10kv', '2026-06-30', '11:30')).toEqual({ band: 'peak', cnyPerKwh: 1.188 });
    expect(price('bj-single-part-1-10kv', '2026-01-10', '03:00')).toEqual({
      band: 'valley',
      cnyPerKwh: 0.198,
    });
    // below 1 kV has no critical price: its critical hours are their own band (16:00 in summer is flat)
    expect(price('bj-single-part-below-1kv', '2026-07-15', '11:30')).toEqual({
      band: 'peak',
      cnyPerKwh: 1.197,
    });
    expect(price('bj-single-part-below-1kv', '2026-07-15', '16:15')).toEqual({
      band: 'flat',
      cnyPerKwh: 0.7,
    });
    // before the division's first day there is no price
    expect(price('bj-two-part-1-10kv', '2023-08-31', '12:00')).toBeUndefined();
    for (const id of tariffs.ids)
      for (const v of tariffs.tariff(id)!.versions) expect(v.source.length).toBeGreaterThan(0);
  });

  const problemsOf = (value: unknown): FileProblem[] => {
    const problems: FileProblem[] = [];
    tariffsOf([{ file: 't.yaml', value: tariffFileSchema.parse(value) }], problems);
    return problems;
  };
  const division = (bands: { from: string; to: string; band: string }[]) => ({
    id: 'd',
    validFrom: '2026-01-01',
    source: 's',
    verified: false,
    bands,
  });
  const version = (validFrom: string) => ({
    validFrom,
    source: 's',
    verified: false,
    prices: { peak: 1, flat: 1, valley: 1 },
  });

  it('names the hours of a division without a band, and those with two', () => {
    expect(
      problemsOf({
        divisions: [
          division([
            { from: '00:00', to: '13:00', band: 'valley' },
            { from: '14:00', to: '20:15', band: 'peak' },
            { from: '20:00', to: '23:00', band: 'flat' },
          ]),
        ],
      }).map((p) => `${p.path}: ${p.problem}`),
    ).toEqual([
      'divisions[0].bands: no band for 13:00–14:00, 23:00–24:00',
      'divisions[0].bands: two bands for 20:00–20:15',
    ]);
  });

  it('refuses a time off the quarter hour, a tariff id used twice and a version date used twice', () => {
    expect(() =>
      tariffFileSchema.parse({ divisions: [division([{ from: '00:10', to: '24:00', band: 'flat' }])] }),
    ).toThrow(/quarter hour/);
    const tariff = { id: 't', name: 't', customerClass: 'single_part', voltage: '1_10kv' };
    expect(
      problemsOf({
        tariffs: [
          { ...tariff, versions: [version('2026-01-01'), version('2026-01-01')] },
          { ...tariff, versions: [version('2026-02-01')] },
        ],
      }).map((p) => `${p.path}: ${p.problem}`),
    ).toEqual([
      'tariffs[0].versions[1].validFrom: 2026-01-01 is used by two versions',
      'tariffs[1].id: tariff id "t" used twice',
    ]);
  });

  it('stops a registry whose site declares a tariff seeds/tariffs does not have', () => {
    const site = (id: string, tariff?: string) =>
      ({ id, devices: [], ...(tariff ? { tariff } : {}) }) as unknown as Site;
    expect(() =>
      checkSiteTariffs(new Registry([site('a', 'bj-two-part-1-10kv'), site('b')]), tariffs),
    ).not.toThrow();
    expect(() =>
      checkSiteTariffs(new Registry([site('a', 'bj-two-part-10kv'), site('b', 'x')]), tariffs),
    ).toThrow(DataFileError);
    expect(() => checkSiteTariffs(new Registry([site('a', 'bj-two-part-10kv')]), tariffs)).toThrow(
      /site a: tariff: unknown tariff "bj-two-part-10kv"/,
    );
  });
});
