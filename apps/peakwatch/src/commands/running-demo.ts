import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_KEYS } from '@peakwatch/config';
import type { Language } from '@peakwatch/contracts';
import { cliText } from '../cli-language';

/**
 * Where a running demo says how to reach it: DATA_DIR/demo.json (its user's only), written at start and removed when
 * it stops. The commands of the same checkout (kpi, report, import, apikey, device …) take its InfluxDB from it when
 * INFLUX_URL is not set, so that they work beside the demo as printed.
 */
const DEMO_FILE = 'demo.json';

/** What the commands beside the demo need of it: whether it runs, and its InfluxDB. */
export interface RunningDemo {
  pid: number;
  influxUrl: string;
}

export function publishDemo(dataDir: string, demo: RunningDemo): void {
  writeFileSync(join(dataDir, DEMO_FILE), `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
}

export function unpublishDemo(dataDir: string): void {
  rmSync(join(dataDir, DEMO_FILE), { force: true });
}

/** The demo running with `env`'s DATA_DIR (its process alive), or undefined. */
export function runningDemo(env: NodeJS.ProcessEnv): RunningDemo | undefined {
  const dataDir = resolve(env['DATA_DIR']?.trim() || CONFIG_KEYS.DATA_DIR.default);
  let demo: Partial<RunningDemo>;
  try {
    demo = JSON.parse(readFileSync(join(dataDir, DEMO_FILE), 'utf8')) as Partial<RunningDemo>;
  } catch {
    return undefined;
  }
  if (
    typeof demo.pid !== 'number' ||
    typeof demo.influxUrl !== 'string' ||
    !/^http:\/\/127\.0\.0\.1:\d+$/.test(demo.influxUrl)
  )
    return undefined;
  try {
    process.kill(demo.pid, 0); // alive (a demo that died leaves its file behind)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return demo as RunningDemo;
}

/**
 * A command's environment beside a running demo: the demo's InfluxDB when INFLUX_URL is not set (said on standard
 * error, in `language`); `env` itself otherwise.
 */
export function besideRunningDemo(env: NodeJS.ProcessEnv, language: Language = 'en'): NodeJS.ProcessEnv {
  if (env['INFLUX_URL']?.trim()) return env;
  const demo = runningDemo(env);
  if (!demo) return env;
  process.stderr.write(`peakwatch: ${cliText(language)('runningDemo.influx', { url: demo.influxUrl })}\n`);
  return { ...env, INFLUX_URL: demo.influxUrl };
}
