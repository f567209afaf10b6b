#!/usr/bin/env node
// The set-up behind `npm run demo`, `npm test` and `npm start` on a fresh machine. It uses only Node's own modules,
// because it runs before the npm dependencies exist:
//   1. checks the Node version;
//   2. installs the npm dependencies when they are missing or older than package-lock.json (`npm ci`: exactly the
//      lock, never rewriting it);
//   3. finds influxd / mosquitto / PostgreSQL, installs them with apt-get when running as root, or stops with the command to run;
//   4. builds the TypeScript when running the CLI (incremental, quick when nothing changed);
//   5. runs the command, passing signals on, and exits with its exit code.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIN_NODE = [20, 19];
/** Debian packages of the servers each mode starts itself. */
/** The CJK font of the PDF reports (a file, not a program). */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const SERVERS = {
  demo: { influxd: 'influxdb', [CJK_FONT]: 'fonts-wqy-microhei' },
  start: { [CJK_FONT]: 'fonts-wqy-microhei' },
  test: {
    influxd: 'influxdb',
    mosquitto: 'mosquitto',
    initdb: 'postgresql',
    pdftotext: 'poppler-utils',
    curl: 'curl',
    [CJK_FONT]: 'fonts-wqy-microhei',
  },
};
const SETPRIV = '/usr/bin/setpriv';

const [mode, ...args] = process.argv.slice(2);
const log = (message) => process.stderr.write(`[peakwatch] ${message}\n`);
const fail = (message) => {
  log(message);
  process.exit(1);
};

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
    fail(`Node ${process.versions.node} is too old: PeakWatch needs Node ${MIN_NODE.join('.')} or newer.`);
  }
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    ...options,
  });
  if (result.error) fail(`${command} could not run: ${result.error.message}`);
  return result.status ?? 1;
}

function ensureNodeModules() {
  const marker = join(ROOT, 'node_modules/.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci, exactly the locked versions)...');
  // Send npm's own output to standard error: standard output belongs to the command that follows.
  if (run('npm', ['ci', '--no-audit', '--no-fund'], { stdio: ['ignore', 2, 2] }) !== 0) fail('npm ci failed');
}

/** PostgreSQL's programs live in a directory per version. */
function postgresDirs() {
  try {
    return readdirSync('/usr/lib/postgresql').map((version) => `/usr/lib/postgresql/${version}/bin`);
  } catch {
    return [];
  }
}

function which(name) {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined;
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/sbin',
    ...postgresDirs(),
  ];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function ensureServers(needed = {}) {
  const missing = Object.entries(needed).filter(([binary]) => !which(binary));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  const names = missing.map(([binary]) => binary).join(' and ');
  const install = `apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() !== 0)
    fail(`${names} not found. Install with: sudo apt-get update && sudo ${install}`);
  log(`${names} not found: installing ${packages.join(' ')} with apt-get...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = { env, stdio: ['ignore', 2, 2] };
  if (
    run('apt-get', ['update', '-qq'], quiet) !== 0 ||
    run('apt-get', ['install', '-y', '-qq', ...packages], quiet) !== 0
  ) {
    fail(`apt-get could not install ${packages.join(' ')}. Run: apt-get update && ${install}`);
  }
  const still = missing.filter(([binary]) => !which(binary));
  if (still.length > 0) fail(`${still.map(([b]) => b).join(', ')} still missing after apt-get install`);
}

function build() {
  const npx = join(ROOT, 'node_modules/.bin');
  const status =
    run(join(npx, 'tsc'), ['-p', 'tsconfig.build.json'], { stdio: ['ignore', 2, 2] }) ||
    run(join(npx, 'tsc-alias'), ['-p', 'tsconfig.build.json'], { stdio: ['ignore', 2, 2] });
  if (status !== 0) fail('build failed');
}

/** Runs the final command; it dies with us (parent-death signal), and our SIGINT/SIGTERM are passed on to it. */
function exec(command, commandArgs, env = process.env) {
  const tied = process.platform === 'linux' && existsSync(SETPRIV);
  const child = spawn(
    tied ? SETPRIV : command,
    tied ? ['--pdeathsig', 'TERM', '--', command, ...commandArgs] : commandArgs,
    {
      cwd: ROOT,
      env,
      stdio: 'inherit',
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
}

checkNode();
const CLI = join(ROOT, 'dist/apps/peakwatch/src/main.js');
/** The environment of PeakWatch's own processes: one glibc malloc arena unless set (README "Memory"). */
const RUN_ENV = { MALLOC_ARENA_MAX: '1', ...process.env };
switch (mode) {
  case 'demo':
  case 'start':
  case 'cli': {
    ensureNodeModules();
    if (mode === 'demo' || mode === 'start') ensureServers(SERVERS[mode]);
    build();
    exec(process.execPath, [CLI, ...(mode === 'cli' ? args : [mode, ...args])], RUN_ENV);
    break;
  }
  case 'bench': {
    ensureNodeModules();
    ensureServers(SERVERS.demo);
    build();
    exec(process.execPath, [join(ROOT, `dist/bench/${args[0]}.bench.js`), ...args.slice(1)], RUN_ENV);
    break;
  }
  case 'test': {
    ensureNodeModules();
    ensureServers(SERVERS.test);
    exec(process.execPath, [join(ROOT, 'node_modules/jest/bin/jest.js'), ...args], {
      ...process.env,
      TZ: 'UTC',
    });
    break;
  }
  default:
    log(`usage: node scripts/bootstrap.mjs demo|start|test|cli|bench [args...]`);
    process.exit(2);
}
