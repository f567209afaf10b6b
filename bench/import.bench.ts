/**
 * `npm run bench:import`: a history import of BENCH_IMPORT_ROWS (default 1,000,000) register readings of the sample
 * campus from a CSV file: the dry run (the file streamed and judged, stored readings looked up, each meter's months
 * before and after) and the write of the batch, in rows per second, and the process's peak resident memory. Reference,
 * in the same run against the same influxd: the same points posted as line protocol straight to /write (10,000-line
 * batches, two in flight), InfluxDB's own write ceiling on this machine. Prints one JSON object.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '@peakwatch/config';
import { HistoryImports } from '@peakwatch/history';
import { InfluxClient, ManagedInfluxd } from '@peakwatch/influx';
import { KpiWriter } from '@peakwatch/metering';
import { freePort } from '@peakwatch/process';
import { loadPolicyData } from '@peakwatch/policy';
import { loadRegistry } from '@peakwatch/registry';
import { Clock, Progress } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { cpuSecondsOf, peakRssMbOf } from './proc';

const ROOT = join(__dirname, '../..');
const ROWS = Number(process.env['BENCH_IMPORT_ROWS'] ?? 1_000_000);
const STEP_MS = 300_000;
const log = (message: string): boolean => process.stderr.write(`[bench:import] ${message}\n`);

/** The registers each kind of meter of the sample campus keeps. */
const REGISTERS: Record<string, string[]> = {
  electricity_meter: ['energy_import_kwh'],
  pv_inverter: ['energy_export_kwh'],
  heat_pump: ['energy_import_kwh', 'heat_kwh'],
  heat_meter: ['heat_kwh'],
  gas_meter: ['gas_m3'],
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'peakwatch-bench-import-'));
  const influxd = await ManagedInfluxd.start({
    dataDir: join(dir, 'influxd'),
    httpPort: await freePort(),
    rpcPort: await freePort(),
  });
  try {
    const registry = loadRegistry(join(ROOT, 'seeds/sites'));
    const registers = registry
      .devices()
      .flatMap(({ site, device }) =>
        (REGISTERS[device.kind] ?? []).map((metric) => ({ site, device, metric })),
      );
    const perRegister = Math.ceil(ROWS / registers.length);
    // the readings end a day before now, every 5 minutes back from there
    const endMs = Math.floor((Date.now() - 86_400_000) / STEP_MS) * STEP_MS;
    const startMs = endMs - (perRegister - 1) * STEP_MS;
    const rowsOf = function* (): Generator<{
      site: string;
      device: string;
      metric: string;
      ts: number;
      value: number;
    }> {
      let n = 0;
      for (const [r, { site, device, metric }] of registers.entries())
        for (let i = 0; i < perRegister && n < ROWS; i++, n++)
          yield {
            site: site.id,
            device: device.id,
            metric,
            ts: startMs + i * STEP_MS,
            value: 1000 * r + i * 0.25,
          };
    };

    // the file, streamed to disk
    const file = join(dir, 'history.csv');
    const out = createWriteStream(file);
    out.write('site,device,ts,metric,value\n');
    const writing = new Progress('bench:import file', 'rows', { total: ROWS });
    let count = 0;
    for (const row of rowsOf()) {
      if (
        !out.write(`${row.site},${row.device},${new Date(row.ts).toISOString()},${row.metric},${row.value}\n`)
      )
        await once(out, 'drain');
      writing.update(++count);
    }
    writing.finish(count);
    out.end();
    await once(out, 'finish');
    log(
      `${ROWS} rows of ${registers.length} registers over ${((endMs - startMs) / 86_400_000).toFixed(0)} days`,
    );

    // the reference: the same points as line protocol, straight to /write
    const ceilingDb = new InfluxClient({ url: influxd.url, database: 'ceiling' });
    await ceilingDb.ensureDatabase();
    const tags = new Map(
      registry
        .devices()
        .map(({ site, device }) => [
          device.id,
          `telemetry,device=${device.id},district=${site.district},kind=${device.kind},role=${device.role},site=${site.id}`,
        ]),
    );
    let started = performance.now();
    const writer = new KpiWriter(ceilingDb);
    // progress for each point, as the import's own write reports it: both pay the same
    const ceiling = new Progress('bench:import ceiling', 'points', { total: ROWS });
    count = 0;
    for (const row of rowsOf()) {
      await writer.add([`${tags.get(row.device)} ${row.metric}=${row.value} ${row.ts}`]);
      ceiling.update(++count);
    }
    await writer.close();
    ceiling.finish(count);
    const ceilingSeconds = (performance.now() - started) / 1000;
    log(`InfluxDB's ceiling: ${Math.round(ROWS / ceilingSeconds)} points/s`);

    // the import: dry run, then the batch written
    const config = loadConfig(
      {
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: 'history',
        DATA_DIR: dir,
        SEEDS_DIR: join(ROOT, 'seeds'),
        LOG_LEVEL: 'silent',
      },
      ROOT,
    );
    const influx = new InfluxClient(config.influx);
    await influx.ensureDatabase();
    const state = await StateStore.open(config.stateStore);
    const policy = loadPolicyData(join(ROOT, 'seeds'));
    const imports = new HistoryImports({ config, influx, registry, policy, state, clock: Clock.system() });
    const cpuBefore = cpuSecondsOf('self');
    started = performance.now();
    const reading = new Progress('bench:import dry run', 'rows', { total: ROWS });
    const planned = await imports.plan({ path: file, onRowsRead: (read) => reading.update(read) });
    reading.finish(ROWS);
    const planSeconds = (performance.now() - started) / 1000;
    if (planned.plan.rows.rejected > 0)
      throw new Error(`rows refused: ${JSON.stringify(planned.plan.rejections[0])}`);
    log(`dry run: ${planSeconds.toFixed(1)} s`);
    started = performance.now();
    const applying = new Progress('bench:import write', 'points');
    const { batchId } = await imports.apply(planned, {
      actor: 'bench',
      role: 'operator',
      reason: 'bench:import',
      onWritten: (done, total) => (done === total ? applying.finish(done) : applying.update(done, total)),
    });
    const applySeconds = (performance.now() - started) / 1000;
    const stored = await influx.query(`SELECT count(*) FROM telemetry WHERE batch = '${batchId}'`);
    const points = Object.entries(stored[0]?.rows[0] ?? {})
      .filter(([k]) => k !== 'time')
      .reduce((sum, [, v]) => sum + Number(v), 0);
    await state.close();
    if (points !== ROWS) throw new Error(`${points} values stored, ${ROWS} expected`);

    process.stdout.write(
      `${JSON.stringify({
        bench: 'import',
        rows: ROWS,
        registers: registers.length,
        days: Math.round((endMs - startMs) / 86_400_000),
        dryRun: { seconds: round(planSeconds), rowsPerSecond: Math.round(ROWS / planSeconds) },
        write: { seconds: round(applySeconds), rowsPerSecond: Math.round(ROWS / applySeconds) },
        total: {
          seconds: round(planSeconds + applySeconds),
          rowsPerSecond: Math.round(ROWS / (planSeconds + applySeconds)),
        },
        influxCeiling: { seconds: round(ceilingSeconds), pointsPerSecond: Math.round(ROWS / ceilingSeconds) },
        ratio: {
          writeToCeiling: round(ceilingSeconds / applySeconds),
          totalToCeiling: round(ceilingSeconds / (planSeconds + applySeconds)),
        },
        peakRssMb: peakRssMbOf('self'),
        cpuSeconds: round(cpuSecondsOf('self') - cpuBefore),
        influxdCpuSeconds: round(cpuSecondsOf(influxd.process.pid)),
      })}\n`,
    );
  } finally {
    await influxd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
