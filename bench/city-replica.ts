/**
 * One replica of `npm run bench:city`'s two-replica KPI run, forked by the bench: the analytics app on the PostgreSQL
 * state store named by DATABASE_URL (the environment is its configuration), its clock starting at BENCH_CLOCK_MS.
 * It says `ready`, then runs the scheduled KPI job (leased parts, as a replica of `peakwatch start` does) for each
 * `{ runAtMs }` it is sent and answers with its CPU seconds.
 */
import { ANALYTICS_APP, KpiCron } from '@peakwatch/analytics';
import { loadConfig } from '@peakwatch/config';
import { Clock } from '@peakwatch/runtime';
import { benchApp } from './bench-app';
import { cpuSecondsOf } from './proc';

async function main(): Promise<void> {
  const app = await benchApp(loadConfig(process.env), [ANALYTICS_APP], {
    clock: Clock.startingAt(Number(process.env['BENCH_CLOCK_MS'])),
  });
  process.on('message', (message: { runAtMs: number }) => {
    const cpu0 = cpuSecondsOf('self');
    void app
      .get(KpiCron)
      .scheduled(message.runAtMs)
      .then(
        () => process.send!({ cpuS: cpuSecondsOf('self') - cpu0 }),
        (error: unknown) => process.send!({ error: String(error) }),
      );
  });
  process.once('disconnect', () => void app.close().then(() => process.exit(0)));
  process.send!('ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
