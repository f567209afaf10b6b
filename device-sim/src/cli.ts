import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import pino from 'pino';
import { translator, type Language } from '@peakwatch/contracts';
import { instantMs } from '@peakwatch/metering';
import { UsageError } from '@peakwatch/runtime';
import { loadScenario } from './scenario';
import { runScenario } from './run';
import { runLoad } from './load';

/** Defaults of `peakwatch sim`. */
export const SIM_DEFAULTS = {
  broker: 'mqtt://127.0.0.1:1883',
  seed: 1,
  qos: 1,
  /** Accelerated mode without --from starts this far back (ms). */
  acceleratedLookbackMs: 86_400_000,
} as const;

export interface SimFlags {
  scenario?: string;
  broker: string;
  speed?: string;
  seed: string;
  from?: string;
  to?: string;
  truth?: string;
  credentials?: string;
  qos: string;
  devices?: string;
  rate?: string;
  duration?: string;
}

/** The command's texts in `language`: `cli.sim.*` of the messages (libs/contracts cli-messages.ts). */
type Text = (key: string, values?: Record<string, unknown>) => string;
const simText =
  (language: Language): Text =>
  (key, values = {}) =>
    translator(language)(`cli.sim.${key}`, values);

/** A number a flag gives; else a UsageError with the text `refusal` (cli.sim.*) of the flag's value. */
const number = (t: Text, raw: string, check: (n: number) => boolean, refusal: string): number => {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(t(refusal, { value: JSON.stringify(raw) }));
  return n;
};

/** The zone of a bare date: Beijing, the reporting zone of the sample scenarios. */
const SCENARIO_ZONE = 'Asia/Shanghai';
/** A date (midnight in SCENARIO_ZONE) or an RFC 3339 time with its offset, as the other commands read them. */
const time = (t: Text, flag: string, raw: string): number => {
  const ms = instantMs(raw, SCENARIO_ZONE);
  if (ms === undefined) throw new UsageError(t('badTime', { flag, value: JSON.stringify(raw) }));
  return ms;
};

function readCredentials(t: Text, file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(t('unreadableCredentials', { file, problem: (error as Error).message }));
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Object.values(parsed).some((v) => typeof v !== 'string')
  ) {
    throw new UsageError(t('badCredentials', { file }));
  }
  return parsed as Record<string, string>;
}

/**
 * Adds `sim` to a commander program (the `peakwatch` CLI), its messages in the `language()` of the program once its
 * options are parsed.
 */
export function addSimCommand(program: Command, language: () => Language = () => 'en'): Command {
  return program
    .command('sim')
    .description(
      'simulate the devices of a scenario over MQTT (real time, accelerated, backfill) or a load test',
    )
    .addOption(new Option('--scenario <file>', 'scenario YAML, e.g. seeds/scenarios/haidian-campus.yaml'))
    .addOption(new Option('--broker <url>', 'MQTT broker').default(SIM_DEFAULTS.broker))
    .addOption(
      new Option(
        '--speed <n>',
        'virtual seconds per real second (accelerated mode); "max" for as fast as acknowledged',
      ),
    )
    .addOption(
      new Option('--seed <n>', 'random seed (same seed, same readings)').default(String(SIM_DEFAULTS.seed)),
    )
    .addOption(new Option('--from <time>', 'start of simulated time (date or RFC 3339)'))
    .addOption(
      new Option(
        '--to <time>',
        'end of simulated time: backfill [from, to] as fast as the broker acknowledges',
      ),
    )
    .addOption(new Option('--truth <file>', 'write the ground truth JSON here'))
    .addOption(new Option('--credentials <file>', 'JSON object { deviceId: secret }'))
    .addOption(new Option('--qos <n>', 'MQTT QoS of readings').default(String(SIM_DEFAULTS.qos)))
    .addOption(new Option('--devices <n>', 'load mode: number of synthetic devices'))
    .addOption(new Option('--rate <n>', 'load mode: readings per second in total'))
    .addOption(new Option('--duration <s>', 'load mode: seconds to run (default: until stopped)'))
    .action((flags: SimFlags) => simCommand(flags, language()));
}

export async function simCommand(flags: SimFlags, language: Language = 'en'): Promise<void> {
  const t = simText(language);
  const log = pino({ name: 'sim', level: 'info' }, pino.destination({ fd: 2, sync: true }));
  const logFn = (message: string, fields?: Record<string, unknown>): void => log.info(fields ?? {}, message);
  const qos = number(t, flags.qos, (n) => n === 0 || n === 1 || n === 2, 'badQos') as 0 | 1 | 2;
  const seed = number(t, flags.seed, Number.isSafeInteger, 'badSeed');
  try {
    new URL(flags.broker);
  } catch {
    throw new UsageError(t('badBroker', { value: JSON.stringify(flags.broker) }));
  }
  const credentials = flags.credentials ? readCredentials(t, flags.credentials) : {};
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  if (flags.devices !== undefined || flags.rate !== undefined) {
    if (flags.scenario) throw new UsageError(t('loadAndScenario'));
    const devices = number(
      t,
      flags.devices ?? '',
      (n) => Number.isInteger(n) && n >= 1 && n <= 100_000,
      'badDevices',
    );
    const rate = number(t, flags.rate ?? '', (n) => n > 0, 'badRate');
    const durationS =
      flags.duration === undefined ? undefined : number(t, flags.duration, (n) => n > 0, 'badDuration');
    const summary = await runLoad({
      brokerUrl: flags.broker,
      devices,
      rate,
      durationS,
      qos,
      credentials,
      signal: controller.signal,
      log: logFn,
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  if (!flags.scenario) throw new UsageError(t('noScenario'));
  if (flags.duration !== undefined) throw new UsageError(t('durationLoadOnly'));
  const scenario = loadScenario(resolve(flags.scenario));
  const stepMs = scenario.intervalSeconds * 1000;
  const fromRaw = flags.from === undefined ? undefined : time(t, '--from', flags.from);
  const toMs = flags.to === undefined ? undefined : Math.floor(time(t, '--to', flags.to) / stepMs) * stepMs;
  const speed =
    flags.speed === undefined
      ? toMs !== undefined || fromRaw !== undefined
        ? Number.POSITIVE_INFINITY
        : 1
      : flags.speed === 'max'
        ? Number.POSITIVE_INFINITY
        : number(t, flags.speed, (n) => n > 0, 'badSpeed');
  if (toMs !== undefined && fromRaw === undefined) throw new UsageError(t('toNeedsFrom'));
  const defaultFrom = speed === 1 ? Date.now() : Date.now() - SIM_DEFAULTS.acceleratedLookbackMs;
  const fromMs = Math.floor((fromRaw ?? defaultFrom) / stepMs) * stepMs;
  if (toMs !== undefined && toMs < fromMs)
    throw new UsageError(t('toBeforeFrom', { to: flags.to, from: flags.from }));
  if (fromMs > Date.now()) throw new UsageError(t('fromFuture', { from: flags.from }));
  logFn('starting', {
    scenario: scenario.name,
    from: new Date(fromMs).toISOString(),
    to: toMs === undefined ? 'follow real time' : new Date(toMs).toISOString(),
    speed: Number.isFinite(speed) ? speed : 'max',
    seed,
  });
  await runScenario({
    scenario,
    seed,
    fromMs,
    ...(toMs !== undefined ? { toMs } : {}),
    speed,
    brokerUrl: flags.broker,
    credentials,
    qos,
    ...(flags.truth ? { truthFile: resolve(flags.truth) } : {}),
    log: logFn,
    signal: controller.signal,
  });
}
