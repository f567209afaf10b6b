import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError } from './yaml-file';
import { loadRegistry } from './registry';
import { readingIntervalMs } from './registry.schema';

const SITE = `id: s1
name: Site one
district: haidian
type: office
floorAreaM2: 1000
commissionedOn: '2020-01-01'
devices:
  - { id: s1-grid, kind: electricity_meter, role: grid }
`;

describe('loadRegistry', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const problems = (): string[] => {
    try {
      loadRegistry(dir);
    } catch (error) {
      if (error instanceof DataFileError)
        return error.problems.map((p) => `${p.file.replace(dir, '<dir>')}: ${p.path}: ${p.problem}`);
      throw error;
    }
    return [];
  };

  it('loads the sample registry of seeds/sites', () => {
    const registry = loadRegistry(join(__dirname, '../../../seeds/sites'));
    expect(registry.sites.map((s) => s.id)).toEqual(['hd-b1', 'hd-b2', 'hd-b3', 'hd-dc1']);
    expect(registry.device('b2-hp1')).toMatchObject({
      site: { id: 'hd-b2' },
      device: { kind: 'heat_pump', role: 'hp' },
    });
    expect(registry.devices()).toHaveLength(23);
  });

  it('names the file, the path in it and the problem, for every problem', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      SITE.replace('type: office', 'type: castle')
        .replace('floorAreaM2: 1000', 'floorAreaM2: -5')
        .replace('role: grid', 'role: grid, colour: red'),
    );
    expect(problems()).toEqual([
      `<dir>/bad.yaml: type: Invalid option: expected one of "office"|"hotel"|"mall"|"school"|"hospital"|"public_institution"|"data_centre"|"industrial"|"campus"`,
      '<dir>/bad.yaml: floorAreaM2: Too small: expected number to be >0',
      '<dir>/bad.yaml: devices[0]: Unrecognized key: "colour"',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'id: s1\nname: [unclosed\n');
    expect(problems()[0]).toMatch(/^<dir>\/broken\.yaml: : invalid YAML at line \d+, column \d+/);
  });

  it('refuses a device id used by two sites, and a PV without kWp', () => {
    writeFileSync(join(dir, 'a.yaml'), SITE);
    writeFileSync(
      join(dir, 'b.yaml'),
      SITE.replace('id: s1\n', 'id: s2\n').replace(
        '- { id: s1-grid, kind: electricity_meter, role: grid }',
        '- { id: s1-grid, kind: electricity_meter, role: grid }\n  - { id: s2-pv, kind: pv_inverter, role: pv }',
      ),
    );
    expect(problems()).toEqual(['<dir>/b.yaml: devices[1].peakPowerKwp: required for role pv']);
    writeFileSync(join(dir, 'b.yaml'), SITE.replace('id: s1\n', 'id: s2\n'));
    expect(problems()).toEqual(['<dir>/b.yaml: devices[0].id: device id "s1-grid" is also used by site s1']);
  });

  it('takes a baseline from data without figures, and refuses one with figures', () => {
    writeFileSync(join(dir, 'a.yaml'), `${SITE}baseline: { year: 2023, source: data }\n`);
    expect(problems()).toEqual([]);
    expect(loadRegistry(dir).site('s1')!.baseline).toEqual({ year: 2023, source: 'data' });
    writeFileSync(join(dir, 'a.yaml'), `${SITE}baseline: { year: 2023, source: data, energyKwhPerM2: 90 }\n`);
    expect(problems()).toEqual([
      '<dir>/a.yaml: baseline.energyKwhPerM2: a baseline from data takes its figures from the readings of its year: give none',
    ]);
  });

  it('takes a reading interval per device that divides 15 minutes, 5 minutes by default', () => {
    writeFileSync(
      join(dir, 'a.yaml'),
      SITE.replace(
        '- { id: s1-grid, kind: electricity_meter, role: grid }',
        '- { id: s1-grid, kind: electricity_meter, role: grid, readingIntervalSeconds: 420 }',
      ),
    );
    expect(problems()).toEqual([
      '<dir>/a.yaml: devices[0].readingIntervalSeconds: must divide 900 (15 minutes)',
    ]);
    writeFileSync(
      join(dir, 'a.yaml'),
      SITE.replace(
        '- { id: s1-grid, kind: electricity_meter, role: grid }',
        '- { id: s1-grid, kind: electricity_meter, role: grid, readingIntervalSeconds: 60 }',
      ),
    );
    expect(readingIntervalMs(loadRegistry(dir).device('s1-grid')!.device)).toBe(60_000);
    expect(readingIntervalMs({})).toBe(300_000);
  });

  it('refuses an empty folder', () => {
    expect(problems()).toEqual(['<dir>: : holds no *.yaml site file']);
  });
});
