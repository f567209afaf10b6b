import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used, from /proc (`self` for this one). */
export function cpuSecondsOf(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s on Linux)
}

/** Peak resident memory (VmHWM) of a process, in MB, from /proc (`self` for this one). */
export function peakRssMbOf(pid: number | 'self'): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(hwm ?? 0) / 1024);
}
