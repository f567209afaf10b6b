import { runApps } from '@peakwatch/runtime';
import { ALL_APPS } from '../all-apps';

/** `peakwatch start`: the all-in-one process, configured only by the environment, as deployed. */
export function startCommand(): Promise<void> {
  return runApps(ALL_APPS);
}
