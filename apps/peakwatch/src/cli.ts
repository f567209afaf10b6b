import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { Command, CommanderError, Option } from 'commander';
import { LANGUAGES, PeakWatchError, type Language } from '@peakwatch/contracts';
import { addSimCommand } from '@peakwatch/device-sim';
import { apikeyCreateCommand, apikeyRevokeCommand } from './commands/apikey.command';
import { demoCommand } from './commands/demo.command';
import { besideRunningDemo } from './commands/running-demo';
import { reportCommand, reportVerifyCommand } from './commands/report.command';
import { retentionCommand } from './commands/retention.command';
import { startCommand } from './commands/start.command';
import { kpiCommand } from './commands/kpi.command';
import { cliLanguage, localeLanguage } from './cli-language';
import {
  importCommand,
  importListCommand,
  importRejectionsCommand,
  importRollbackCommand,
  type ImportFlags,
} from './commands/import.command';
import {
  deviceSecretCommand,
  dynsecInitCommand,
  drOperatorSecretCommand,
  serviceSecretCommand,
  webhookKeyCommand,
} from './commands/secret.command';
import { EXIT, PEAKWATCH_VERSION, UsageError } from '@peakwatch/runtime';

/** The commands that read InfluxDB, and so find a running demo's (running-demo.ts); `report verify` reads none. */
const BESIDE_DEMO = ['kpi', 'report', 'import', 'retention'];

/**
 * The `peakwatch` command line (README, "Command line"): subcommands, --help on each, exit 0 / 1 failure / 2 bad usage.
 * Its messages are in the language of `--lang`, or else of the locale of `env` (cli-language.ts); commander's own
 * texts (--help, its usage errors) stay in English.
 */
export function buildCli(env: NodeJS.ProcessEnv = process.env): Command {
  // the locale's until the options are parsed, then --lang's if given
  let language: Language = localeLanguage(env);
  const program = new Command('peakwatch')
    .description('IoT energy monitoring for Beijing carbon-peak metrics')
    .version(PEAKWATCH_VERSION)
    .addOption(
      new Option(
        '--lang <language>',
        'language of the messages (default: zh-CN when LC_ALL, LC_MESSAGES or LANG is Chinese, else en)',
      ).choices(LANGUAGES),
    )
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', (_program, action) => {
      language = cliLanguage(program.opts<{ lang?: string }>().lang, env);
      // beside a running demo of this checkout, the commands that read InfluxDB find the demo's (running-demo.ts)
      let command = action;
      while (command.parent && command.parent !== program) command = command.parent;
      if (
        BESIDE_DEMO.includes(command.name()) &&
        !(command.name() === 'report' && action.name() === 'verify')
      ) {
        const influx = besideRunningDemo(env, language)['INFLUX_URL'];
        if (influx !== undefined) env['INFLUX_URL'] = influx;
      }
    });

  program
    .command('start')
    .description('run every app in one process, configured only by the environment (as deployed)')
    .action(() => startCommand());

  program
    .command('demo')
    .description('start a private influxd under DATA_DIR and the all-in-one process; Ctrl-C stops everything')
    .action(() => demoCommand(env, language));

  addSimCommand(program, () => language);

  program
    .command('kpi')
    .description("print a site's KPIs, computed from the readings in InfluxDB by the analytics code")
    .requiredOption('--site <id>', 'site id of the registry')
    .requiredOption('--from <date>', 'start: YYYY-MM-DD (midnight, TZ_REPORTING) or RFC 3339')
    .requiredOption('--to <date>', 'end (exclusive)')
    .option('--period <period>', 'window: 15m, 1h or 1d', '1d')
    .option('--json', 'JSON output')
    .action((flags: { site: string; from: string; to: string; period: string; json?: boolean }) =>
      kpiCommand(flags, language),
    );

  program
    .command('device')
    .description('manage devices')
    .command('secret')
    .description('issue or rotate the MQTT secret of a registered device; prints it once, on the last line')
    .argument('<siteId>')
    .argument('<deviceId>')
    .action((siteId: string, deviceId: string) => deviceSecretCommand(siteId, deviceId, language));

  program
    .command('service')
    .description("manage PeakWatch's own MQTT clients")
    .command('secret')
    .description('issue or rotate the MQTT secret of a service client (role service); prints it once')
    .argument('<name>')
    .action((name: string) => serviceSecretCommand(name, language));

  program
    .command('dr-operator')
    .description("a district's grid operator: sends demand-response requests over MQTT")
    .command('secret')
    .description(
      'issue or rotate the MQTT secret of a grid operator (role dr_operator, publishes dr/v1/<district>/ only); prints it once',
    )
    .argument('<name>')
    .argument('<district>')
    .action((name: string, district: string) => drOperatorSecretCommand(name, district, language));

  program
    .command('broker')
    .description('the external MQTT broker')
    .command('dynsec-init')
    .description(
      "write the initial file of Mosquitto's dynamic security (MQTT_DYNSEC_USERNAME/PASSWORD, MQTT_USERNAME/PASSWORD)",
    )
    .argument('<file>', 'the plugin_opt_config_file of mosquitto.conf; an existing file is left as it is')
    .action((file: string) => dynsecInitCommand(file, language));

  program
    .command('webhook')
    .description('webhook receivers')
    .command('key')
    .description(
      'print the key a receiver verifies its webhooks with (derived from ALERT_WEBHOOK_SECRET and its URL)',
    )
    .argument('<url>', 'the URL exactly as in ALERT_WEBHOOKS or REPORT_ENDPOINTS')
    .action((url: string) => webhookKeyCommand(url, language));

  program
    .command('report')
    .description("generate an emitter's monthly or annual report (a new version only when it changed)")
    // not a required option: `report verify` takes none
    .option('--org <id>', 'the organisation (emitter.id in the registry)')
    .option('--month <YYYY-MM>', 'a monthly energy and emissions report')
    .option('--year <YYYY>', 'an annual greenhouse-gas report')
    .option('--json', 'print the report as JSON')
    .action((flags: { org?: string; month?: string; year?: string; json?: boolean }) =>
      reportCommand(flags, language),
    )
    .command('verify')
    .description(
      'recompute a report version from its evidence bundle alone (no InfluxDB, no state store): prints match or what differs',
    )
    .argument(
      '<bundle>',
      'a v<n>.evidence.zip (DATA_DIR/reports/<org>/<period>/, or GET .../{version}/evidence)',
    )
    .action((bundle: string) => reportVerifyCommand(bundle, language));

  const history = program
    .command('import')
    .description('import readings of the past from a CSV or XLSX file: a dry run, written only with --apply')
    .argument('<file>', 'a .csv or .xlsx file of register readings or interval energy (docs/imports.md)')
    .option('--reason <text>', 'why (required; recorded with the batch)')
    .option(
      '--tz <zone>',
      'the zone of times without an offset and of spreadsheet dates: +08:00 or Asia/Shanghai',
    )
    .option('--replace', 'replace stored readings of the same device and time (refused otherwise)')
    .option('--apply', 'write it: prints the batch id alone on the last line')
    .option('--partial', 'with --apply: write the accepted rows even though others were refused')
    .option('--json', 'print the dry run as JSON')
    .action((file: string, flags: ImportFlags) => importCommand(file, flags, language));
  history
    .command('rollback')
    .description("remove a batch's readings, restore what it replaced, restate its reports")
    .argument('<batch>')
    .action((batch: string) => importRollbackCommand(batch, language));
  history
    .command('list')
    .description('every import batch, newest first')
    .action(() => importListCommand(language));
  history
    .command('rejections')
    .description("a batch's refused rows as CSV")
    .argument('<batch>')
    .action((batch: string) => importRejectionsCommand(batch));

  program
    .command('retention')
    .description(
      'what telemetry retention does now, within RETENTION_WARN_DAYS, and keeps (docs/retention.md); --apply does it',
    )
    .option('--at <date>', 'the plan at a coming date (YYYY-MM-DD, or a time with its offset) instead of now')
    .option('--apply', 'down-sample and remove what is due now')
    .option('--json', 'print the plan as JSON')
    .action((flags: { at?: string; apply?: boolean; json?: boolean }) => retentionCommand(flags, language));

  const apikey = program.command('apikey').description('manage API keys');
  apikey
    .command('create')
    .description('create an API key with a role and scope; prints it once, on the last line')
    .requiredOption('--role <role>', 'admin, facility_manager, emitter or regulator')
    .option('--scope <ids>', 'site ids (comma-separated) of a facility manager, an organisation, a district')
    .option('--name <name>', 'a label for the key')
    .action((flags: { role: string; scope?: string; name?: string }) => apikeyCreateCommand(flags, language));
  apikey
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<id>')
    .action((id: string) => apikeyRevokeCommand(id, language));

  const overrideAll = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(overrideAll);
  };
  overrideAll(program);
  return program;
}

/** Runs the CLI; resolves to an exit code only on failure (success keeps long-running commands alive). */
/**
 * Nest's logger for the services a command uses outside an app (the report command's ReportService): its messages
 * go to standard error, which carries logs, never to standard output, which carries the command's output. The apps
 * themselves log JSON to standard error through pino.
 */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}

export async function runCli(argv: string[]): Promise<number | undefined> {
  Logger.overrideLogger(new StderrLogger());
  const program = buildCli();
  try {
    if (argv.length <= 2) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync(argv);
    return undefined;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version end the program through exitOverride too, with exit code 0.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`peakwatch: ${error.message}\n`);
    return EXIT.usage;
  }
  // an error PeakWatch names (a bad configuration, a missing binary, an unknown site ...): its message, no stack
  if (error instanceof PeakWatchError) {
    process.stderr.write(`peakwatch: ${error.message}\n`);
    return EXIT.failure;
  }
  process.stderr.write(
    `peakwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return EXIT.failure;
}
