import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { ManagedProcess, canConnect, freePort, onFreePorts, requireBinary } from '@peakwatch/process';

/** PostgreSQL refuses to run as root; Debian's package creates this user. */
const POSTGRES_USER = 'postgres';

/**
 * A private PostgreSQL (Debian `postgresql`) on a free loopback port, for the tests and the benches: its cluster in a
 * temporary directory, trust authentication for the role `peakwatch`, fsync off (a throw-away cluster). Run as
 * `postgres` when started as root. Throws with the install command when the binaries are missing.
 */
export class ManagedPostgres {
  private databases = 0;

  private constructor(
    readonly port: number,
    private readonly server: ManagedProcess,
    private readonly dir: string,
  ) {}

  static async start(): Promise<ManagedPostgres> {
    const initdb = requireBinary('initdb');
    const postgres = requireBinary('postgres');
    const dir = mkdtempSync(join(tmpdir(), 'peakwatch-postgres-'));
    const asRoot = process.getuid?.() === 0;
    const id = (flag: string): number =>
      Number(spawnSync('id', [flag, POSTGRES_USER], { encoding: 'utf8' }).stdout.trim());
    if (asRoot) chownSync(dir, id('-u'), id('-g'));
    const data = join(dir, 'data');
    const init = spawnSync(
      asRoot ? '/usr/bin/setpriv' : initdb,
      [
        ...(asRoot ? [`--reuid=${POSTGRES_USER}`, `--regid=${POSTGRES_USER}`, '--init-groups', initdb] : []),
        '-D',
        data,
        '-U',
        'peakwatch',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ],
      { encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}):\n${init.stderr}`);
    return onFreePorts(async () => {
      const port = await freePort();
      const server = await ManagedProcess.start({
        name: 'postgres',
        command: postgres,
        args: [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
        ],
        // accepting TCP is not enough: it answers "starting up" until recovery is done
        ready: async () => {
          if (!(await canConnect(port))) return false;
          const probe = new Client({ connectionString: `postgres://peakwatch@127.0.0.1:${port}/postgres` });
          try {
            await probe.connect();
            await probe.query('SELECT 1');
            return true;
          } finally {
            await probe.end().catch(() => undefined);
          }
        },
        ...(asRoot ? { user: POSTGRES_USER } : {}),
      });
      return new ManagedPostgres(port, server, dir);
    });
  }

  /** A fresh, empty database on this server: its postgres:// URL. */
  async database(): Promise<string> {
    const name = `test_${++this.databases}`;
    const admin = new Client({ connectionString: this.url('postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return this.url(name);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private url(database: string): string {
    return `postgres://peakwatch@127.0.0.1:${this.port}/${database}`;
  }
}
