import { readFileSync } from 'node:fs';
import { ManagedProcess } from '@peakwatch/process';

/** How often a test process checks that the jest run that started it still exists (ms). */
const CHECK_INTERVAL_MS = 250;

let started = false;

/** The parent pid as the kernel sees it. Jest's sandboxed `process` is a copy whose `ppid` never changes. */
function kernelPpid(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * Jest's worker processes outlive a jest main process that was killed, and so would the servers they started
 * (PR_SET_PDEATHSIG only fires when the worker itself dies). This watchdog notices that the worker has been
 * orphaned, kills its servers and ends the worker.
 */
export function watchForOrphaning(): void {
  if (started || process.platform !== 'linux') return;
  started = true;
  const parent = kernelPpid();
  setInterval(() => {
    if (kernelPpid() === parent) return;
    ManagedProcess.killAll();
    process.exit(1);
  }, CHECK_INTERVAL_MS).unref();
}
