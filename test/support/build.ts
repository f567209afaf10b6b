import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

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
