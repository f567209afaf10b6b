import { ManagedMosquitto } from '@peakwatch/mqtt';
import { watchForOrphaning } from './orphan-watchdog';

export type TestMosquitto = ManagedMosquitto;

/**
 * A private mosquitto on a free loopback port (ManagedMosquitto: anonymous, or with dynamic security reading
 * `dynsecFile`), stopped with the jest run that started it even if that run is killed.
 */
export async function startMosquitto(options: { dynsecFile?: string } = {}): Promise<TestMosquitto> {
  watchForOrphaning();
  return ManagedMosquitto.start(options);
}
