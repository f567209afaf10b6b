import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z';
}

/** Live child processes of `pid` whose command line contains `name`. */
export function childrenNamed(pid: number, name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => stat(child)?.ppid === pid && isAlive(child))
    .filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(name);
      } catch {
        return false;
      }
    });
}

/** Polls `condition` every 100 ms until it holds or `limitMs` passes; returns its last value. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  limitMs: number,
): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}

/**
 * The environment of a PeakWatch process a test starts: PATH and `vars` only, plus the clock of the run when the
 * suite runs at a chosen date under libfaketime (docs/testing.md), so that the process and the test agree on "now".
 */
export function childEnv(vars: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clock = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => key === 'LD_PRELOAD' || key.startsWith('FAKETIME')),
  );
  return { PATH: process.env['PATH'], ...clock, ...vars };
}

/** Where Debian's `faketime` package puts the library (its path depends on the architecture). */
const LIBFAKETIME = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/**
 * The environment that sets a child process's clock to `atMs` now (libfaketime, moving on from there; monotonic time
 * left alone), so that a command a spec starts agrees with the period the spec chose. Throws with the install command
 * when libfaketime is missing.
 */
export function clockAt(atMs: number): NodeJS.ProcessEnv {
  const library = LIBFAKETIME.find((path) => existsSync(path));
  if (!library)
    throw new Error(`libfaketime not found in ${LIBFAKETIME.join(', ')}: apt-get install faketime`);
  const offsetS = Math.round((atMs - Date.now()) / 1000);
  return {
    LD_PRELOAD: library,
    FAKETIME: `${offsetS >= 0 ? '+' : ''}${offsetS}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}
