import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from '@peakwatch/registry';
import { anchoredAt, faultTime, loadScenario } from './scenario';

const SEEDS = join(__dirname, '../../seeds');

describe('loadScenario', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    mkdirSync(join(dir, 'sites'));
    mkdirSync(join(dir, 'scenarios'));
    for (const f of readdirSync(join(SEEDS, 'sites')))
      copyFileSync(join(SEEDS, 'sites', f), join(dir, 'sites', f));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sample = readFileSync(join(SEEDS, 'scenarios/haidian-campus.yaml'), 'utf8');
  const problemsOf = (text: string): string[] => {
    const file = join(dir, 'scenarios', 's.yaml');
    writeFileSync(file, text);
    try {
      loadScenario(file);
    } catch (error) {
      if (error instanceof DataFileError) return error.problems.map((p) => `${p.path}: ${p.problem}`);
      throw error;
    }
    return [];
  };

  it('loads the sample scenario with its registry', () => {
    expect(problemsOf(sample)).toEqual([]);
    const s = loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml'));
    expect(s.sites.map((site) => site.id)).toEqual(['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']);
    expect(s.pv.get('b1-pv')?.peakPowerKwp).toBe(300);
  });

  it('names the path and the problem of each bad entry', () => {
    const broken = sample
      .replace('intervalSeconds: 300', 'intervalSeconds: 420')
      .replace('sites: [hd-b1, hd-b2, hd-b3, hd-dc1]', 'sites: [hd-b1, hd-b2, hd-b3, hd-dc1, hd-b9]')
      .replace(
        '{ type: spike, device: b3-power, at: +0d15h, factor: 10 }',
        '{ type: spike, device: b9-power, at: +0d15h, factor: 10 }',
      )
      .replace(
        '{ type: gap, device: b2-lighting, at: +1d09h, durationMinutes: 120 }',
        '{ type: gap, device: b2-lighting, at: tomorrow, durationMinutes: 120 }',
      );
    expect(problemsOf(broken)).toEqual([
      'intervalSeconds: must divide 900 (15 minutes)',
      'faults[1].at: expected an offset like +2d10h or an RFC 3339 timestamp',
    ]);
    expect(
      problemsOf(
        sample
          .replace('intervalSeconds: 300', 'intervalSeconds: 300')
          .replace('hd-b3, hd-dc1]', 'hd-b3, hd-dc1, hd-b9]')
          .replace('device: b3-power', 'device: b9-power'),
      ),
    ).toEqual([
      'sites[4]: unknown site "hd-b9" (not in ../sites)',
      'faults[6].device: unknown device "b9-power"',
    ]);
  });

  it('requires the model of each heat pump and data centre', () => {
    expect(
      problemsOf(sample.replace(/ {2}b2-hp2: .*\n/, '').replace(/dataCentres:\n {2}hd-dc1: .*\n/, '')),
    ).toEqual([
      'heatPumps: needs an entry for heat pump b2-hp2',
      'dataCentres: needs an entry for data centre hd-dc1',
    ]);
  });

  it('refuses a demand or price response of a site that cannot give it', () => {
    // the tariffs beside the sites, as in seeds
    mkdirSync(join(dir, 'tariffs'));
    copyFileSync(join(SEEDS, 'tariffs/beijing.yaml'), join(dir, 'tariffs/beijing.yaml'));
    const responses = [
      'demandResponse:',
      "  - { sites: [hd-b1, hd-dc1], at: '+1d14h', durationMinutes: 60, shed: { hvac: 0.5 } }",
      'priceResponse:',
      '  - { sites: [hd-b2, hd-b3, hd-dc1], shift: { power: 0.3 } }',
      '',
    ].join('\n');
    expect(problemsOf(`${sample}${responses}`)).toEqual([
      'demandResponse[0].sites[1]: "hd-dc1" is not an office of this scenario',
      // hd-b3 declares no tariff in its registry entry
      'priceResponse[0].sites[1]: "hd-b3" declares no tariff of ../tariffs',
      'priceResponse[0].sites[2]: "hd-dc1" is not an office of this scenario',
    ]);
  });

  it('resolves fault times from offsets and timestamps', () => {
    const start = Date.parse('2025-01-13T00:00:00+08:00');
    expect(faultTime('+1d09h30m', start)).toBe(start + (33 * 60 + 30) * 60_000);
    expect(faultTime('+45m', start)).toBe(start + 45 * 60_000);
    expect(faultTime('2025-01-14T02:00:00+08:00', start)).toBe(start + 26 * 3_600_000);
  });
});

describe('anchoredAt', () => {
  const scenario = loadScenario(join(SEEDS, 'scenarios/haidian-campus.yaml'));
  const anchor = Date.UTC(2026, 10, 28, 16); // 29 November 2026, 00:00 in Beijing

  it("times the faults and the data centre's drift from the anchor, not from the run's start", () => {
    const anchored = anchoredAt(scenario, anchor);
    // seeds: b2-lighting's gap at +1d09h, the plant's drift from +0d12h
    const gap = anchored.faults.find((f) => f.type === 'gap' && f.device === 'b2-lighting');
    expect(gap).toMatchObject({ at: new Date(anchor + 33 * 3_600_000).toISOString() });
    expect(anchored.dataCentres.get('hd-dc1')!.drift!.since).toBe(
      new Date(anchor + 12 * 3_600_000).toISOString(),
    );
    // an absolute time stays where it is, whatever the run's start
    expect(faultTime(gap!.type === 'gap' ? gap.at : '', Date.UTC(2026, 0, 1))).toBe(anchor + 33 * 3_600_000);
    // faults without a time (duplicates) and the rest of the scenario are untouched
    expect(anchored.faults.filter((f) => !('at' in f))).toEqual(scenario.faults.filter((f) => !('at' in f)));
    expect(anchored.sites).toBe(scenario.sites);
  });
});
