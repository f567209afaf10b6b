import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { childEnv } from './processes';

export const ROOT = join(__dirname, '../..');
/** The built `peakwatch` command line. */
export const CLI = join(ROOT, 'dist/apps/peakwatch/src/main.js');

/** Builds dist/ as `npm run demo` does (tsc incremental, then path aliases); quick when nothing changed. */
export function buildDist(): void {
  for (const [tool, args] of [
    ['tsc', ['-p', 'tsconfig.build.json']],
    ['tsc-alias', ['-p', 'tsconfig.build.json']],
  ] as const) {
    const result = spawnSync(join(ROOT, 'node_modules/.bin', tool), args, { cwd: ROOT, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed:\n${result.stdout}${result.stderr}`);
  }
}

/**
 * Runs the built `peakwatch` with `args` (a `--json` command) in a child process with `env` (and the run's faked
 * clock, if any), and returns its exit status, standard error and parsed standard output.
 */
export function runCliJson<T>(
  args: string[],
  env: NodeJS.ProcessEnv,
): { status: number | null; stderr: string; json: T } {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: childEnv(env),
  });
  if (run.status !== 0) throw new Error(`peakwatch ${args.join(' ')} exited ${run.status}:\n${run.stderr}`);
  return { status: run.status, stderr: run.stderr, json: JSON.parse(run.stdout) as T };
}
