import { join } from 'node:path';
import JSZip from 'jszip';
import { loadPolicyData } from '@peakwatch/policy';
import { siteSchema } from '@peakwatch/registry';
import { computeReport, type ReportSources } from './report';
import { bundleFiles, evidenceBundle, evidenceChanges, evidenceFiles, verifyBundle } from './report-evidence';
import { EVIDENCE_LAYOUT, type Report } from './report-schema';

const policy = loadPolicyData(join(__dirname, '../../../seeds'));
const QUARTER = 900_000;
/** February 2026 in Asia/Shanghai: [31 Jan 16:00 UTC, 28 Feb 16:00 UTC), 28 days of 96 quarters. */
const FROM = Date.UTC(2026, 0, 31, 16);
const TO = Date.UTC(2026, 1, 28, 16);
const site = siteSchema.parse({
  id: 's1',
  name: 'Site one',
  district: 'haidian',
  type: 'office',
  floorAreaM2: 10_000,
  commissionedOn: '2020-01-01',
  emitter: { id: 'org1', name: 'Org one', keyEmitter: true },
  devices: [{ id: 'm1', kind: 'electricity_meter', role: 'grid', readingIntervalSeconds: 900 }],
});
/** A register that counts 25 kWh a quarter, read every quarter from one before the month to one after it. */
const readings = Array.from({ length: (TO - FROM) / QUARTER + 3 }, (_, k) => ({
  time: FROM - QUARTER + k * QUARTER,
  energy_import_kwh: 1000 + 25 * k,
}));
const sources: ReportSources = {
  sites: [site],
  meters: [{ siteId: 's1', device: site.devices[0]!, readings, events: [], downsampled: [], quarters: [] }],
  inputs: {},
  factors: policy.factors,
  thresholds: policy.thresholds,
};
const evidence = evidenceFiles(sources);
const report = computeReport({
  sources,
  period: '2026-02',
  timeZone: 'Asia/Shanghai',
  evidenceSha256: evidence.sha256,
});
const info = {
  layout: EVIDENCE_LAYOUT,
  peakwatchVersion: '9.9.9',
  organisation: 'org1',
  period: '2026-02',
  version: 1,
  createdAt: '2026-03-03T02:00:00.000Z',
};

/** The bundle with `edit` applied to its files (path → new content, or null to remove one). */
async function edited(edit: (files: Map<string, string>) => void): Promise<Buffer> {
  const zip = await JSZip.loadAsync(await evidenceBundle(report, evidence, info));
  const files = new Map<string, string>();
  for (const entry of Object.values(zip.files)) files.set(entry.name, await entry.async('string'));
  edit(files);
  const out = new JSZip();
  for (const [path, content] of files) out.file(path, content);
  return out.generateAsync({ type: 'nodebuffer' });
}
const verify = (bundle: Buffer) => verifyBundle(bundle, '1.0.0');
/** The reading at the month's end (it closes the last quarter): 25 kWh × (2688 + 1) above 1,000. */
const LAST = `${new Date(TO).toISOString()},,${1000 + 25 * 2689}`;

describe('evidence bundle', () => {
  it("computes the report from the bundle's sources: 25 kWh × 2,688 quarters, at the 2026 grid factor", () => {
    const line = report.meters.find((m) => m.deviceId === 'm1' && m.metric === 'energy_import_kwh')!;
    expect(line).toMatchObject({
      quantity: 67_200,
      readingsReceived: 2688,
      readingsExpected: 2688,
      completeness: 1,
    });
    // cn-grid-2023, 0.5306 kgCO2/kWh: 67,200 × 0.5306 / 1,000
    expect(report.emissions.indirectElectricityLocationT).toBe(35.6563);
    expect(report.evidence.layout).toBe(EVIDENCE_LAYOUT);
    expect(report.evidence.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies an untouched bundle: every file hashed, every figure recomputed, the versions named', async () => {
    const result = await verify(await evidenceBundle(report, evidence, info));
    expect(result).toMatchObject({ match: true, checked: true, problems: [], differences: [] });
    expect(result.info).toMatchObject({ peakwatchVersion: '9.9.9', organisation: 'org1', version: 1 });
    expect(result.report).toEqual({
      organisation: 'org1',
      period: '2026-02',
      contentHash: report.contentHash,
      evidenceSha256: evidence.sha256,
    });
  });

  it('names the file and the figures an edited reading changes', async () => {
    const result = await verify(
      await edited((f) => {
        const csv = f.get('readings/s1/m1.csv')!;
        expect(csv).toContain(`\n${LAST}\n`);
        f.set(
          'readings/s1/m1.csv',
          csv.replace(LAST, `${new Date(TO).toISOString()},,${1000 + 25 * 2689 + 10}`),
        );
      }),
    );
    expect(result.match).toBe(false);
    expect(result.problems).toEqual(['readings/s1/m1.csv: changed (its SHA-256 is not the one listed)']);
    const differences = new Map(result.differences.map((d) => [d.field, [d.stated, d.recomputed]]));
    expect(differences.get('meters[s1/m1/energy_import_kwh].quantity')).toEqual([67_200, 67_210]);
    expect(differences.get('energy.carriers[grid_electricity].quantity')).toEqual([67_200, 67_210]);
    // 67,210 × 0.5306 / 1,000, rounded to 4 decimals
    expect(differences.get('emissions.indirectElectricityLocationT')).toEqual([35.6563, 35.6616]);
    // what the edit does not touch is not listed
    expect(differences.has('meters[s1/m1/energy_import_kwh].readingsReceived')).toBe(false);
  });

  it('finds a figure edited in the report, and a report whose hash was recomputed after the edit', async () => {
    const edit = (r: Report): Report => ({
      ...r,
      meters: r.meters.map((m) => ({ ...m, quantity: 60_000 })),
    });
    const stale = await verify(await edited((f) => f.set('report.json', JSON.stringify(edit(report)))));
    expect(stale.problems).toEqual([
      'report.json: changed (its content is not the one its contentHash states)',
    ]);
    expect(stale.differences).toEqual([
      { field: 'meters[s1/m1/energy_import_kwh].quantity', stated: 60_000, recomputed: 67_200 },
    ]);
  });

  it('says when a list or a file was removed, or a file added', async () => {
    const result = await verify(
      await edited((f) => {
        f.delete('policy.json');
        f.set('readings/s1/extra.csv', 'time,batch\n');
      }),
    );
    expect(result.match).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'policy.json: listed in SHA256SUMS but missing',
        'readings/s1/extra.csv: not listed in SHA256SUMS',
        'policy.json is missing',
      ]),
    );
  });

  it('names the line and field of a reading it cannot read', async () => {
    const result = await verify(
      await edited((f) => {
        const lines = f.get('readings/s1/m1.csv')!.split('\n');
        lines[5] = `yesterday,,1000`;
        lines[7] = `${lines[7]!.split(',')[0]},,12e`;
        f.set('readings/s1/m1.csv', lines.join('\n'));
      }),
    );
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'readings/s1/m1.csv line 6: time "yesterday" is not an ISO 8601 UTC time',
        'readings/s1/m1.csv line 8: energy_import_kwh "12e" is not a number',
      ]),
    );
  });

  it('says it cannot check a bundle of another layout, or what is not a bundle', async () => {
    const other = await verify(
      await edited((f) => f.set('bundle.json', JSON.stringify({ ...info, layout: 'peakwatch-evidence/9' }))),
    );
    expect(other).toMatchObject({ match: false, checked: false });
    expect(other.problems).toEqual([
      'layout "peakwatch-evidence/9" (made by PeakWatch 9.9.9): PeakWatch 1.0.0 checks peakwatch-evidence/1 and ' +
        'peakwatch-evidence/2 only, so it cannot check this bundle',
    ]);
    const junk = await verify(Buffer.from('not a zip'));
    expect(junk).toMatchObject({ match: false, checked: false });
    expect(junk.problems[0]).toMatch(/^not a zip archive/);
  });

  it('stops inflating an entry as soon as the bundle passes its limit (a zip bomb)', async () => {
    // 64 MiB of zeros deflate to about 64 KiB; the limit is 1 MiB
    const zip = new JSZip();
    zip.file('report.json', Buffer.alloc(64 * 1024 ** 2));
    const bomb = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
    expect(bomb.length).toBeLessThan(1024 ** 2);
    await expect(bundleFiles(bomb, 1024 ** 2)).rejects.toThrow('its files unpack to more than 1048576 bytes');
    // what fits is read whole
    const small = new JSZip();
    small.file('a.txt', 'x'.repeat(1000));
    small.file('b.txt', 'y'.repeat(1000));
    const files = await bundleFiles(
      await small.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }),
      2000,
    );
    expect([...files.values()].map((t) => t.length)).toEqual([1000, 1000]);
    await expect(
      bundleFiles(await small.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }), 1999),
    ).rejects.toThrow('more than 1999 bytes');
  });

  it("names what in the evidence changed between two versions: each meter's readings, the declarations", () => {
    const at = (k: number): string => new Date(FROM - QUARTER + k * QUARTER).toISOString();
    const later = evidenceFiles({
      ...sources,
      meters: [
        {
          ...sources.meters[0]!,
          // readings 10 and 11 gone, 20 corrected by an import, two more after the month's end from the same import
          readings: [
            ...readings
              .filter((_, k) => k !== 10 && k !== 11)
              .map((r) =>
                r.time === Date.parse(at(20)) ? { ...r, energy_import_kwh: 1.5, batch: 'imp-0a' } : r,
              ),
            { time: Date.parse(at(2691)), energy_import_kwh: 70_000, batch: 'imp-0a' },
            { time: Date.parse(at(2692)), energy_import_kwh: 70_025, batch: 'imp-0a' },
          ],
        },
      ],
      inputs: { greenCertificates: 3 },
    }).files;
    expect(evidenceChanges(evidence.files, later)).toEqual([
      'declared inputs: greenCertificates changed',
      `readings of s1/m1: 2 added, 1 changed, 2 removed (${at(10)} … ${at(2692)}), import batch imp-0a`,
    ]);
    expect(evidenceChanges(evidence.files, evidence.files)).toEqual([]);
  });

  it('recomputes the carbon-market section from carbon-market.json, and names a changed allowance', async () => {
    const withMarket: ReportSources = {
      ...sources,
      carbonMarket: {
        allowance: { allowanceT: 1000, carbonPriceCnyPerT: 50, version: 1 },
        months: [{ period: '2026-01', version: 2, contentHash: 'a'.repeat(64), tCo2: 40 }],
        previousYear: [],
      },
    };
    const files = evidenceFiles(withMarket);
    const market = computeReport({
      sources: withMarket,
      period: '2026-02',
      timeZone: 'Asia/Shanghai',
      evidenceSha256: files.sha256,
    });
    // January's 40 t and February's 35.6563 t over their 59 days, × 365; 1,000 t allowed, at 50 CNY/t
    const projected = ((40 + 35.6563) * 365) / 59;
    expect(market.carbonMarket).toMatchObject({
      allowanceT: 1000,
      allowanceVersion: 1,
      monthsFiled: [1, 2],
      toDateT: 75.6563,
      method: 'linear_by_days',
      warning: false,
    });
    expect(market.carbonMarket!.projectedT).toBeCloseTo(projected, 4);
    expect(market.carbonMarket!.surplusCny).toBeCloseTo((1000 - projected) * 50, 1);
    const bundle = await evidenceBundle(market, files, info);
    expect(await verify(bundle)).toMatchObject({ match: true, differences: [] });
    const zip = await JSZip.loadAsync(bundle);
    zip.file(
      'carbon-market.json',
      JSON.stringify({
        ...withMarket.carbonMarket,
        allowance: { allowanceT: 900, carbonPriceCnyPerT: 50, version: 1 },
      }),
    );
    const edited = await verify(await zip.generateAsync({ type: 'nodebuffer' }));
    expect(edited.problems).toEqual(['carbon-market.json: changed (its SHA-256 is not the one listed)']);
    expect(edited.differences.map((d) => d.field)).toEqual([
      'carbonMarket.allowanceT',
      'carbonMarket.surplusT',
      'carbonMarket.surplusCny',
    ]);
  });
});
