import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, canConnect, freePort, onFreePorts, requireBinary } from '@peakwatch/process';

/** Where Debian's `mosquitto` package puts the dynamic security plugin (its path depends on the architecture). */
const DYNSEC_PLUGIN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
  '/usr/lib/mosquitto_dynamic_security.so',
];

/**
 * A private mosquitto 2.x (Debian `mosquitto`) on a free loopback port, with persistence in a temporary directory,
 * running as the current user, for the tests and the benches: anonymous, or with the dynamic security plugin as
 * deploy/mosquitto configures it, reading `dynsecFile` (written by `peakwatch broker dynsec-init`). Queue limits are
 * lifted on purpose: with its default of 1000 queued messages mosquitto drops QoS 1 messages to a slow subscriber,
 * and a run that must lose nothing cannot allow that. Throws with the install command when mosquitto is missing.
 */
export class ManagedMosquitto {
  private constructor(
    readonly port: number,
    private server: ManagedProcess,
    private readonly dir: string,
    private readonly command: { binary: string; configFile: string },
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.server.pid;
  }

  static async start({ dynsecFile }: { dynsecFile?: string } = {}): Promise<ManagedMosquitto> {
    const binary = requireBinary('mosquitto');
    const plugin = DYNSEC_PLUGIN_PATHS.find((path) => existsSync(path));
    if (dynsecFile && !plugin)
      throw new Error(
        `mosquitto_dynamic_security.so not found in ${DYNSEC_PLUGIN_PATHS.join(', ')}: apt-get install mosquitto`,
      );
    const dir = await mkdtemp(join(tmpdir(), 'peakwatch-mosquitto-'));
    const configFile = join(dir, 'mosquitto.conf');
    return onFreePorts(async () => {
      const port = await freePort();
      await writeFile(
        configFile,
        [
          `listener ${port} 127.0.0.1`,
          ...(dynsecFile
            ? ['allow_anonymous false', `plugin ${plugin}`, `plugin_opt_config_file ${dynsecFile}`]
            : ['allow_anonymous true']),
          // Started as root, mosquitto would switch to user `mosquitto`, and a change of user clears the kernel's
          // parent-death signal that ties it to the process that started it. Staying the current user keeps it.
          `user ${userInfo().username}`,
          'persistence true',
          `persistence_location ${dir}/`,
          // bounded far above any run's volume rather than 0 (unlimited): with 0, mosquitto 2.0.11 closes the
          // connection of a client right after refusing one of its QoS 1 publishes ("Bad socket read/write")
          'max_queued_messages 10000000',
          'max_inflight_messages 0',
          'log_dest stderr',
          'log_type error',
          'log_type warning',
          '',
        ].join('\n'),
      );
      const command = { binary, configFile };
      return new ManagedMosquitto(port, await ManagedMosquitto.run(port, command), dir, command);
    });
  }

  private static run(port: number, { binary, configFile }: { binary: string; configFile: string }) {
    return ManagedProcess.start({
      name: 'mosquitto',
      command: binary,
      args: ['-c', configFile],
      ready: () => canConnect(port),
    });
  }

  /** Stops the broker, keeping its port, configuration and persisted sessions for `restart` (a broker outage). */
  async halt(): Promise<void> {
    await this.server.stop();
  }

  /** Starts the halted broker again on the same port, with the sessions it persisted. */
  async restart(): Promise<void> {
    this.server = await ManagedMosquitto.run(this.port, this.command);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
