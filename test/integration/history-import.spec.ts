import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { KpiCron } from '@peakwatch/analytics';
import type { AppConfig } from '@peakwatch/config';
import { HistoryImports, ImportFileError, ImportRefusedError, type ImportPlan } from '@peakwatch/history';
import type { InfluxClient } from '@peakwatch/influx';
import { readKpis, type StoredKpi } from '@peakwatch/metering';
import { loadPolicyData } from '@peakwatch/policy';
import { Registry, loadRegistry } from '@peakwatch/registry';
import { Clock } from '@peakwatch/runtime';
import { AuditLog, StateStore, type AuditRecord, type ImportBatch } from '@peakwatch/state';
import { HOUR, beijingMidnight } from '../support/calendar';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { kpiSnapshot } from '../support/kpi-snapshot';
import { testConfig } from '../support/ingest';

const SEEDS = join(__dirname, '../../seeds');
/** The day imported, chosen by the spec: 10 March 2025 in Beijing (no calendar boundary is at stake). */
const DAY_START = beijingMidnight('2025-03-10');
/** The clock of the run: 10:00 the next morning, so 12 March is in the future. */
const NOW = DAY_START + 34 * HOUR;
const HEADER = 'site,device,ts,metric,value';
/** b1-grid's register at hour h of the day: 1,000 kWh at midnight, 100 kWh an hour (2,400 kWh over the day). */
const register = (h: number): number => 1000 + 100 * h;
const at = (h: number): string =>
  `${new Date(DAY_START + h * HOUR + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;
const dayRows = (): string[] =>
  Array.from({ length: 25 }, (_, h) => `hd-b1,b1-grid,${at(h)},energy_import_kwh,${register(h)}`);

/** The telemetry points of a device, as stored (tags and fields). */
async function points(influx: InfluxClient, device: string): Promise<Record<string, unknown>[]> {
  return (await influx.query(`SELECT * FROM telemetry WHERE device = '${device}'`)).flatMap((s) => s.rows);
}

describe('history import: dry run, provenance, conflicts and rollback against the real influxd', () => {
  let influxd: TestInfluxd;
  let influx: InfluxClient;
  let config: AppConfig;
  let store: StateStore;
  let dir: string;
  let imports: HistoryImports;
  let job: KpiCron;
  const clock = Clock.startingAt(NOW);
  const registry = loadRegistry(join(SEEDS, 'sites'));
  const policy = loadPolicyData(SEEDS);

  const file = async (name: string, lines: string[]): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  };

  beforeAll(async () => {
    influxd = await startInfluxd();
    influx = await influxd.client('history');
    dir = await mkdtemp(join(tmpdir(), 'peakwatch-import-'));
    config = await testConfig(influxd.url, 'history', dir);
    store = await StateStore.open(config.stateStore);
    imports = new HistoryImports({ config, influx, registry, policy, state: store, clock });
    job = new KpiCron(config, influx, registry, loadPolicyData(SEEDS), undefined, clock);
  });
  afterAll(async () => {
    await store?.close();
    await influxd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the row and the field of each bad row, and writes nothing unless a partial import is confirmed', async () => {
    const path = await file('bad.csv', [
      HEADER,
      `hd-b1,b1-hvac,${at(0)},energy_import_kwh,1000`, // 2: good
      `hd-b1,nope,${at(1)},energy_import_kwh,1100`, // 3
      `hd-b2,b1-hvac,${at(1)},energy_import_kwh,1100`, // 4
      'hd-b1,b1-hvac,2025-03-10 25:00,energy_import_kwh,1', // 5: no offset, and no hour 25
      'hd-b1,b1-hvac,2025-03-10T02:00:00Z,energy_import_kwh,1200', // 6: another zone than row 2's
      `hd-b1,b1-hvac,${at(3)},energy_kwh,1300`, // 7
      `hd-b1,b1-hvac,${at(4)},energy_import_kwh,12abc`, // 8
      `hd-b1,b1-hvac,${at(0)},energy_import_kwh,1000`, // 9: row 2 again
      'hd-b1,b1-hvac,2025-03-12T10:00:00+08:00,energy_import_kwh,9000', // 10: after the run's clock
      'hd-b1,b1-hvac,2025-02-30T10:00:00+08:00,energy_import_kwh,900', // 11: not on the calendar
      `hd-b1,b1-hvac,${at(5)},energy_import_kwh,1500`, // 12: good
    ]);
    const { plan } = await imports.plan({ path });
    expect(plan.rejections.map((r) => [r.row, r.field, r.reason])).toEqual([
      [3, 'device', 'unknown_device'],
      [4, 'site', 'site_mismatch'],
      [5, 'ts', 'bad_timestamp'],
      [6, 'ts', 'mixed_time_zones'],
      [7, 'metric', 'unknown_metric'],
      [8, 'value', 'bad_value'],
      [9, 'ts', 'duplicate_row'],
      [10, 'ts', 'timestamp_in_future'],
      [11, 'ts', 'bad_timestamp'],
    ]);
    expect(plan.rejections.find((r) => r.row === 9)!.detail).toContain('row 2');
    expect(plan.rows).toEqual({ read: 11, accepted: 2, rejected: 9, replaced: 0 });

    const planned = await imports.plan({ path });
    await expect(
      imports.apply(planned, { actor: 'cli', role: 'operator', reason: 'meter memory' }),
    ).rejects.toThrow(ImportRefusedError);
    await expect(
      imports.apply(planned, { actor: 'cli', role: 'operator', reason: '  ', partial: true }),
    ).rejects.toMatchObject({ field: 'reason' });
    expect(await points(influx, 'b1-hvac')).toEqual([]);
    expect((await imports.list()).filter((b) => b.fileName === 'bad.csv')).toEqual([]);
  });

  it('refuses a file it cannot read at all: a wrong header, a unit that is not the metric’s, a truncated XLSX', async () => {
    const header = await file('header.csv', [
      'site,device,time,metric,value',
      `hd-b1,b1-grid,${at(0)},energy_import_kwh,1`,
    ]);
    await expect(imports.plan({ path: header })).rejects.toThrow(/row 1: .*missing: ts; unknown: time/);
    await expect(imports.plan({ path: header })).rejects.toMatchObject({ field: 'header' });
    const twice = await file('twice.csv', [
      `${HEADER},value`,
      `hd-b1,b1-grid,${at(0)},energy_import_kwh,1,2`,
    ]);
    await expect(imports.plan({ path: twice })).rejects.toThrow(/row 1: the header names value twice/);

    const units = await file('units.csv', [
      `${HEADER},unit`,
      `hd-b1,b1-grid,${at(0)},energy_import_kwh,1000,kWh`,
      `hd-b1,b1-grid,${at(1)},energy_import_kwh,1100,m3`,
    ]);
    expect((await imports.plan({ path: units })).plan.rejections).toEqual([
      expect.objectContaining({ row: 3, field: 'unit', reason: 'unit_mismatch' }),
    ]);

    const xlsx = join(dir, 'cut.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('readings');
    sheet.addRow(HEADER.split(','));
    for (let h = 0; h < 2000; h++)
      sheet.addRow(['hd-b1', 'b1-grid', at(h % 24), 'energy_import_kwh', register(h)]);
    await workbook.xlsx.writeFile(xlsx);
    const { size } = await stat(xlsx);
    await truncate(xlsx, Math.floor(size / 2));
    await expect(imports.plan({ path: xlsx })).rejects.toThrow(ImportFileError);
    await expect(imports.plan({ path: xlsx })).rejects.toMatchObject({ field: 'file' });
  });

  it('numbers rows by their line (blank lines, quoted line breaks), and takes a zone with daylight saving', async () => {
    const path = await file('lines.csv', [
      HEADER,
      '',
      `hd-b1,b1-hvac,${at(0)},energy_import_kwh,1`, // line 3
      '"hd-b1","b1-hvac","2025-03-10T01:00:00+08:00","energy_import_kwh","1', // a value over two lines
      '2"',
      `hd-b1,b1-hvac,${at(2)},energy_import_kwh,x`, // line 6
    ]);
    expect((await imports.plan({ path })).plan.rejections.map((r) => [r.row, r.field])).toEqual([
      [5, 'value'],
      [6, 'value'],
    ]);
    // London: +00:00 in winter, +01:00 in summer; a time written without an offset takes the one of its date
    const london = await file('london.csv', [
      HEADER,
      'hd-b1,b1-hvac,2024-01-15T12:00:00,energy_import_kwh,1',
      'hd-b1,b1-hvac,2024-07-15T12:00:00,energy_import_kwh,2',
      'hd-b1,b1-hvac,2024-07-16T12:00:00+01:00,energy_import_kwh,3',
      'hd-b1,b1-hvac,2024-07-17T12:00:00+00:00,energy_import_kwh,4', // summer: not London's offset
    ]);
    const plan = (await imports.plan({ path: london, zone: 'Europe/London' })).plan;
    expect(plan.rejections.map((r) => [r.row, r.reason])).toEqual([[5, 'mixed_time_zones']]);
    expect(plan.devices[0]).toMatchObject({
      fromMs: Date.parse('2024-01-15T12:00:00Z'),
      toMs: Date.parse('2024-07-16T11:00:00Z'),
    });
  });

  it("tells a facility manager nothing of another site's device", async () => {
    const path = await file('foreign.csv', [HEADER, `hd-b1,b2-grid,${at(0)},energy_import_kwh,1`]);
    const { plan } = await imports.plan({ path, allowedSites: new Set(['hd-b1']) });
    expect(plan.rejections).toEqual([
      { row: 2, field: 'device', reason: 'unknown_device', detail: 'b2-grid is not a device of hd-b1' },
    ]);
    expect(JSON.stringify(plan)).not.toContain('hd-b2');
  });

  it('rolls back a batch another one replaced readings of only after that one, which gives them back', async () => {
    const db = await influxd.client('order');
    const own = new HistoryImports({ config, influx: db, registry, policy, state: store, clock });
    const who = { actor: 'cli', role: 'operator', reason: 'order' };
    const row = (h: number, v: number): string => `hd-b3,b3-hvac,${at(h)},energy_import_kwh,${v}`;
    const first = await own.apply(
      await own.plan({ path: await file('first.csv', [HEADER, row(0, 10), row(1, 20)]) }),
      who,
    );
    const second = await own.apply(
      await own.plan({ path: await file('second.csv', [HEADER, row(1, 25)]), replace: true }),
      who,
    );
    await expect(own.rollback(first.batchId, who)).rejects.toThrow(`replaced by import ${second.batchId}`);
    await own.rollback(second.batchId, who);
    const after = (await db.query(`SELECT energy_import_kwh, batch FROM telemetry GROUP BY batch`)).flatMap(
      (x) => x.rows.map((r) => [r['time'], r['energy_import_kwh'], x.tags['batch']]),
    );
    expect(after).toEqual([
      [DAY_START, 10, first.batchId],
      [DAY_START + HOUR, 20, first.batchId],
    ]);
    await own.rollback(first.batchId, who);
    expect(await db.query('SELECT * FROM telemetry')).toEqual([]);
  });

  it('reads an XLSX sheet whose times are spreadsheet dates in the zone stated', async () => {
    const xlsx = join(dir, 'dates.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('readings');
    sheet.addRow(HEADER.split(','));
    // a spreadsheet date is a wall-clock time: 00:00 and 01:00 of 10 March, written as such
    sheet.addRow(['hd-b1', 'b1-grid', new Date(Date.UTC(2025, 2, 10, 0)), 'energy_import_kwh', 1000]);
    sheet.addRow(['hd-b1', 'b1-grid', new Date(Date.UTC(2025, 2, 10, 1)), 'energy_import_kwh', 1100]);
    await workbook.xlsx.writeFile(xlsx);
    const without = (await imports.plan({ path: xlsx })).plan;
    expect(without.rejections.map((r) => [r.row, r.field, r.reason])).toEqual([
      [2, 'ts', 'bad_timestamp'],
      [3, 'ts', 'bad_timestamp'],
    ]);
    const { plan } = await imports.plan({ path: xlsx, zone: 'Asia/Shanghai' });
    expect(plan.rejections).toEqual([]);
    expect(plan.devices).toEqual([
      expect.objectContaining({
        deviceId: 'b1-grid',
        readings: 2,
        fromMs: DAY_START,
        toMs: DAY_START + HOUR,
      }),
    ]);
  });

  it("books interval energy (a gas bill per month) to the meter's register, and refuses overlaps, gaps and wrong units", async () => {
    const month = (m: string): string => `2024-${m}-01T00:00:00+08:00`;
    const path = await file('bills.csv', [
      'site,device,start,end,value,unit',
      `hd-b3,b3-gas,${month('01')},${month('02')},1200,m3`, // 2
      `hd-b3,b3-gas,${month('02')},${month('03')},1000.5,m³`, // 3
      `hd-b3,b3-gas,${month('02')},2024-02-15T00:00:00+08:00,10,m3`, // 4: overlaps row 3
      `hd-b3,b3-gas,${month('04')},${month('05')},900,m3`, // 5: March is missing
      `hd-b3,b3-heat,${month('01')},${month('02')},50,m3`, // 6: a heat meter does not count m³
      `hd-b3,b3-gas,${month('03')},${month('03')},1,m3`, // 7: an empty period
      `hd-b2,b2-grid,${month('01')},${month('02')},2000,kWh`, // 8: a bill of the meter behind a 20:1 CT
      `hd-b1,b1-lighting,${month('01')},${month('03')},500,kWh`, // 9: 60 days, longer than a gap is bridged
    ]);
    const { plan } = await imports.plan({ path });
    expect(plan.layout).toBe('intervals');
    expect(plan.rejections.map((r) => [r.row, r.field, r.reason])).toEqual([
      [4, 'start', 'overlapping_period'],
      [5, 'start', 'bad_period'],
      [6, 'unit', 'unit_mismatch'],
      [7, 'end', 'bad_period'],
      [9, 'end', 'bad_period'],
    ]);
    // by hand: a register from 0 at 1 January, 1,200 m³ at 1 February, 2,200.5 m³ at 1 March
    expect(plan.devices.filter((d) => d.deviceId === 'b3-gas')).toEqual([
      expect.objectContaining({
        deviceId: 'b3-gas',
        readings: 3,
        fromMs: beijingMidnight('2024-01-01'),
        toMs: beijingMidnight('2024-03-01'),
      }),
    ]);
    const gas = (label: string) =>
      plan.windows.find((w) => w.label === label)!.meters.find((m) => m.deviceId === 'b3-gas');
    // spread over the month's quarters (a gap of the register's interval): the month's sum to rounding
    expect(gas('2024-01')).toMatchObject({ metric: 'gas_m3', before: null });
    expect(gas('2024-01')!.after).toBeCloseTo(1200, 9);
    expect(gas('2024-02')!.after).toBeCloseTo(1000.5, 9);
    expect(gas('2024')!.after).toBeCloseTo(2200.5, 9);
    // the bill is primary energy: the register behind the CT counts 100 kWh, the meter read gives the 2,000 back
    const grid = plan.windows.find((w) => w.label === '2024-01' && w.siteId === 'hd-b2')!.meters;
    expect(grid.find((m) => m.deviceId === 'b2-grid')!.after).toBeCloseTo(2000, 9);
  });

  it('computes a baseline from data: the year imported is the one the next years are measured against', async () => {
    // hd-b1 with its baseline year 2023 from data instead of the figures of its registry file
    const variant = new Registry(
      registry.sites.map((s) =>
        s.id === 'hd-b1' ? { ...s, baseline: { year: 2023, source: 'data' as const } } : s,
      ),
    );
    const db = await influxd.client('baseline');
    const own = new HistoryImports({ config, influx: db, registry: variant, policy, state: store, clock });
    // b1-grid read on the 1st of every month: 50 kWh an hour through 2023, 45 through 2024
    const kw = (ms: number): number => (ms < beijingMidnight('2024-01-01') ? 50 : 45);
    const rows = [HEADER];
    let register = 0;
    for (let y = 2023, m = 0, last = beijingMidnight('2023-01-01'); y < 2025 || m === 0;) {
      const t = beijingMidnight(`${y}-${String(m + 1).padStart(2, '0')}-01`);
      register += (kw(last) * (t - last)) / HOUR;
      rows.push(
        `hd-b1,b1-grid,${new Date(t + 8 * HOUR).toISOString().slice(0, 19)}+08:00,energy_import_kwh,${register}`,
      );
      last = t;
      if (y === 2025) break;
      if (++m === 12) [y, m] = [y + 1, 0];
    }
    const planned = await own.plan({ path: await file('baseline.csv', rows) });
    expect(planned.plan.rows.rejected).toBe(0);
    await own.apply(planned, {
      actor: 'cli',
      role: 'operator',
      reason: 'baseline year 2023 from the old BMS',
    });
    await new KpiCron(config, db, variant, loadPolicyData(SEEDS), undefined, clock).runOnce(clock.now());

    const year2024 = await readKpis(db, {
      scope: 'site',
      period: '1y',
      fromMs: beijingMidnight('2024-01-01'),
      toMs: beijingMidnight('2024-01-01') + 1,
      entities: ['hd-b1'],
    });
    const value = (kpi: string): number | null | undefined =>
      year2024.find((k) => k.kpi === kpi && !k.category)?.value;
    // by hand: 45 kWh × 8,784 h of 2024 against 50 kWh × 8,760 h of 2023, per the same 24,000 m²: 1 − 395,280 / 438,000
    const reduction = 1 - (45 * 8784) / (50 * 8760);
    expect(value('energy_reduction')).toBeCloseTo(reduction, 9);
    // electricity alone: comprehensive energy and CO2 (at 2023's factors as published by its end, both years) fall by
    // as much
    expect(value('energy_kgce_reduction')).toBeCloseTo(reduction, 9);
    expect(value('co2_reduction')).toBeCloseTo(reduction, 9);
    // and the reductions are against the data, not against the 98 kWh/m² the registry file declares for 2020
    expect(year2024.find((k) => k.kpi === 'energy_reduction')!.denominator).toBeCloseTo(
      (50 * 8760) / 24_000,
      9,
    );
  });

  describe('a day of b1-grid over a live reading', () => {
    const LIVE_TS = DAY_START + 6 * HOUR;
    /** A reading ingest stored: another value than the file's, a power and a sequence number (an integer). */
    const LIVE =
      `telemetry,device=b1-grid,district=haidian,kind=electricity_meter,role=grid,site=hd-b1 ` +
      `energy_import_kwh=1600.5,power_kw=99.5,seq=7i ${LIVE_TS}`;
    const REASON = 'gateway down in March: from the meter memory';
    /** What each step left, observed in order here (the tests run in any order and only look). */
    const seen = {} as {
      path: string;
      before: string[];
      liveAsStored: Record<string, unknown>[];
      refusing: ImportPlan;
      replacing: ImportPlan;
      batchId: string;
      batch: ImportBatch;
      storedAfterApply: Record<string, unknown>[];
      dayEnergyAfterApply: number | null | undefined;
      dayBatchesAfterApply: string[] | undefined;
      monthAfterApply: StoredKpi[];
      storedAfterRollback: Record<string, unknown>[];
      kpisAfterRollback: string[];
      rolledBack: ImportBatch;
      secondRollback: unknown;
      audit: AuditRecord[];
    };

    beforeAll(async () => {
      // the live reading, a day of the lighting meter's, and the late-data marks ingest wrote with them: the KPIs of
      // the day as the job left them
      const lighting = Array.from(
        { length: 25 },
        (_, h) =>
          `telemetry,device=b1-lighting,district=haidian,kind=electricity_meter,role=lighting_sockets,site=hd-b1 ` +
          `energy_import_kwh=${500 + 20 * h} ${DAY_START + h * HOUR}`,
      );
      await writeLines(influx, [
        LIVE,
        ...lighting,
        `ingest_late,device=b1-grid,site=hd-b1 earliest_ms=${LIVE_TS}i,latest_ms=${LIVE_TS}i,readings=1i ${clock.now()}`,
        `ingest_late,device=b1-lighting,site=hd-b1 earliest_ms=${DAY_START}i,latest_ms=${DAY_START + 24 * HOUR}i,readings=25i ${clock.now()}`,
      ]);
      await job.runOnce(clock.now());
      seen.before = await kpiSnapshot(influx, beijingMidnight('2025-01-01'));
      seen.liveAsStored = await points(influx, 'b1-grid');
      seen.path = await file('day.csv', [HEADER, ...dayRows()]);
      seen.refusing = (await imports.plan({ path: seen.path })).plan;
      const planned = await imports.plan({ path: seen.path, replace: true });
      seen.replacing = planned.plan;

      ({ batchId: seen.batchId } = await imports.apply(planned, {
        actor: 'cli',
        role: 'operator',
        reason: REASON,
      }));
      seen.batch = (await imports.get(seen.batchId))!;
      seen.storedAfterApply = await points(influx, 'b1-grid');
      await job.runOnce(clock.now());
      const day = await readKpis(influx, {
        scope: 'site',
        period: '1d',
        fromMs: DAY_START,
        toMs: DAY_START + 1,
        entities: ['hd-b1'],
        kpi: 'energy_kwh',
      });
      seen.dayEnergyAfterApply = day.find((k) => !k.category)?.value;
      seen.dayBatchesAfterApply = day.find((k) => !k.category)?.batches;
      seen.monthAfterApply = await readKpis(influx, {
        scope: 'site',
        period: '1mo',
        fromMs: beijingMidnight('2025-03-01'),
        toMs: beijingMidnight('2025-03-01') + 1,
        entities: ['hd-b1'],
      });

      await imports.rollback(seen.batchId, { actor: 'cli', role: 'operator' });
      seen.storedAfterRollback = await points(influx, 'b1-grid');
      await job.runOnce(clock.now());
      seen.kpisAfterRollback = await kpiSnapshot(influx, beijingMidnight('2025-01-01'));
      seen.rolledBack = (await imports.get(seen.batchId))!;
      seen.secondRollback = await imports
        .rollback(seen.batchId, { actor: 'cli', role: 'operator' })
        .catch((e: unknown) => e);
      seen.audit = await new AuditLog(store).latest(20);
    });

    it('left the KPIs of the live readings as the job computes them before the import', () => {
      // by hand: the lighting's 480 kWh of the day, and no site consumption without the grid meter's
      expect(seen.before).toContainEqual(
        expect.stringMatching(
          /"category":"lighting_sockets".*"kpi":"energy_kwh","period":"1d".*"value":480[,}]/,
        ),
      );
      expect(seen.before.filter((p) => /"category":"","entity":"hd-b1","kpi":"energy_kwh"/.test(p))).toEqual(
        [],
      );
      expect(seen.liveAsStored).toEqual([
        expect.objectContaining({ time: LIVE_TS, energy_import_kwh: 1600.5, power_kw: 99.5, seq: 7 }),
      ]);
    });

    it('refuses the row on the live reading (conflict_with_live) unless --replace, which the dry run shows', () => {
      expect(seen.refusing.rejections).toEqual([
        expect.objectContaining({ row: 8, field: 'ts', reason: 'conflict_with_live' }),
      ]);
      expect(seen.replacing.rejections).toEqual([]);
      expect(seen.replacing.rows).toEqual({ read: 25, accepted: 25, rejected: 0, replaced: 1 });
      expect(seen.replacing.devices).toEqual([
        expect.objectContaining({ deviceId: 'b1-grid', readings: 25, replaced: 1 }),
      ]);
    });

    it("shows each meter's energy before and after in the month and year, and the KPI windows recomputed", () => {
      // by hand: one live reading alone gives no energy; the day's 25 readings 2,400 kWh
      const month = seen.replacing.windows.find((w) => w.period === '1mo' && w.label === '2025-03')!;
      expect(month.meters).toEqual([
        { deviceId: 'b1-grid', metric: 'energy_import_kwh', before: null, after: 2400, anomaliesAfter: 0 },
      ]);
      const year = seen.replacing.windows.find((w) => w.period === '1y' && w.label === '2025')!;
      expect(year.meters[0]).toMatchObject({ before: null, after: 2400 });
      // the site's KPIs of the month and year before and after, by the KPI job's own code: no site energy without the
      // grid meter before; the day's 2,400 kWh after, and what the job then stores for the month, CO2 included
      const stored = (kpi: string): number | null | undefined =>
        seen.monthAfterApply.find((k) => k.kpi === kpi && !k.category)?.value;
      expect(month.kpis['energy_kwh']).toMatchObject({ stored: null, before: null });
      expect(month.kpis['energy_kwh']!.after).toBeCloseTo(2400, 6);
      expect(stored('energy_kwh')).toBeCloseTo(2400, 6);
      expect(month.kpis['co2_t']!.before).toBeNull();
      expect(month.kpis['co2_t']!.after).toBeCloseTo(stored('co2_t')!, 9);
      expect(year.kpis['energy_kwh']!.after).toBeCloseTo(2400, 6);
      // 00:00 to 24:00 inclusive: 97 quarter hours, 25 hours, 2 days
      expect(seen.replacing.windowCounts['hd-b1']).toEqual({ '15m': 97, '1h': 25, '1d': 2 });
    });

    it('applied the batch with its provenance, tagged its points, and the next KPI run counted them', async () => {
      expect(seen.batchId).toMatch(/^imp-\d{8}-[0-9a-f]{8}$/);
      expect(seen.batch).toMatchObject({
        fileName: 'day.csv',
        fileSha256: createHash('sha256')
          .update(await readFile(seen.path))
          .digest('hex'),
        actor: 'cli',
        reason: REASON,
        state: 'applied',
        rowsAccepted: 25,
        rowsRejected: 0,
        rowsReplaced: 1,
      });
      expect(seen.storedAfterApply).toHaveLength(25);
      expect(seen.storedAfterApply.every((p) => p['batch'] === seen.batchId)).toBe(true);
      // the file's register replaces the live one; what the file does not give (the power, the sequence) is kept
      expect(seen.storedAfterApply.find((p) => p['time'] === LIVE_TS)).toMatchObject({
        energy_import_kwh: 1600,
        power_kw: 99.5,
        seq: 7,
      });
      expect(seen.dayEnergyAfterApply).toBeCloseTo(2400, 6);
      // the day's value says which batch its readings came from
      expect(seen.dayBatchesAfterApply).toEqual([seen.batchId]);
      expect(seen.audit.find((a) => a.action === 'import.apply' && a.target === seen.batchId)).toMatchObject({
        actor: 'cli',
        detail: expect.objectContaining({ reason: REASON }) as unknown,
      });
    });

    it('rolled back exactly its points, restored the live reading as it was, and every KPI as it was', () => {
      expect(seen.storedAfterRollback).toEqual(seen.liveAsStored);
      expect(seen.kpisAfterRollback).toEqual(seen.before);
      expect(seen.rolledBack.state).toBe('rolled_back');
      expect(seen.secondRollback).toBeInstanceOf(ImportRefusedError);
      expect(seen.audit.some((a) => a.action === 'import.rollback' && a.target === seen.batchId)).toBe(true);
    });
  });
});

async function writeLines(influx: InfluxClient, lines: string[]): Promise<void> {
  const write = influx.createWriteApi();
  write.writeRecords(lines);
  await write.close();
}
