import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, canConnect, freePort, requireBinary } from '@peakwatch/process';
import { watchForOrphaning } from './orphan-watchdog';

export interface TestMosquitto {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A private mosquitto 2.x (Debian `mosquitto`) on a free loopback port, with persistence in a temporary directory,
 * running as the current user: anonymous, or with `users` (name → password, hashed with mosquitto_passwd) and an
 * `aclFile` (such as the shipped deploy/mosquitto/acl). Queue limits are lifted on purpose: with its default of 1000 queued messages mosquitto drops QoS 1
 * messages to a slow subscriber (FIELD-NOTES.md), and a test that must lose nothing cannot allow that.
 */
export async function startMosquitto({
  users,
  aclFile,
}: { users?: Record<string, string>; aclFile?: string } = {}): Promise<TestMosquitto> {
  watchForOrphaning();
  const binary = requireBinary('mosquitto');
  const dir = await mkdtemp(join(tmpdir(), 'peakwatch-mosquitto-'));
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  const passwordFile = join(dir, 'passwd');
  if (users) {
    await writeFile(
      passwordFile,
      Object.entries(users).map(([name, password]) => `${name}:${password}\n`),
    );
    const hashed = spawnSync(requireBinary('mosquitto_passwd'), ['-U', passwordFile], { encoding: 'utf8' });
    if (hashed.status !== 0) throw new Error(`mosquitto_passwd failed: ${hashed.stderr}`);
  }
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      ...(users ? ['allow_anonymous false', `password_file ${passwordFile}`] : ['allow_anonymous true']),
      ...(aclFile ? [`acl_file ${aclFile}`] : []),
      // Started as root, mosquitto would switch to user `mosquitto`, and a change of user clears the kernel's
      // parent-death signal that ties it to this test process. Staying the current user keeps it.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const mosquitto = await ManagedProcess.start({
    name: 'mosquitto',
    command: binary,
    args: ['-c', configFile],
    ready: () => canConnect(port),
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: mosquitto.pid,
    async stop() {
      await mosquitto.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
