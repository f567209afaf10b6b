import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@peakwatch/config';
import { canConnect, freePort } from '@peakwatch/process';
import { createApp, type AppDefinition } from '@peakwatch/runtime';
import { ALERTS_APP } from '@peakwatch/alerts';
import { ANALYTICS_APP } from '@peakwatch/analytics';
import { API_APP } from '@peakwatch/api';
import { INGEST_APP } from '@peakwatch/ingest';
import { CredentialsRepository } from '@peakwatch/state';
import { REPORTS_APP } from '@peakwatch/reports';
import { ALL_APPS } from '../../apps/peakwatch/src/all-apps';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { connectClient } from '../support/mqtt';
import { testConfig } from '../support/ingest';

describe('apps boot and shut down cleanly', () => {
  let influxd: TestInfluxd;
  let dataDir: string;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(() => influxd?.stop());
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-app-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  const configFor = (database: string): Promise<AppConfig> => testConfig(influxd.url, database, dataDir);

  async function health(config: AppConfig): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${config.http.port}/health`);
    return { status: response.status, body: await response.json() };
  }

  it.each<[string, AppDefinition]>([
    ['analytics', ANALYTICS_APP],
    ['alerts', ALERTS_APP],
    ['reports', REPORTS_APP],
    ['api', API_APP],
  ])(
    '%s alone: /health is ok with the state store and InfluxDB up, and close frees its port',
    async (name, def) => {
      const config = await configFor(`app_${name}`);
      const app = await createApp(config, [def]);
      try {
        expect(await health(config)).toEqual({
          status: 200,
          body: { status: 'ok', apps: [name], checks: { state: 'up', influx: 'up' } },
        });
        expect(existsSync(join(dataDir, 'peakwatch.sqlite'))).toBe(true);
      } finally {
        await app.close();
      }
      expect(await canConnect(config.http.port)).toBe(false);
    },
  );

  it('ingest alone runs the embedded broker, which accepts a device with its secret and stops with the app', async () => {
    const config = await configFor('app_ingest');
    const app = await createApp(config, [INGEST_APP]);
    try {
      expect((await health(config)).body).toEqual({
        status: 'ok',
        apps: ['ingest'],
        checks: { state: 'up', influx: 'up', broker: 'up', spool: 'up' },
      });
      const secret = await app.get(CredentialsRepository).issue('b1-grid', 'device', 'hd-b1');
      const client = await connectClient(`mqtt://127.0.0.1:${config.mqtt.port}`, {
        username: 'b1-grid',
        password: secret,
      });
      await client.endAsync();
    } finally {
      await app.close();
    }
    expect(await canConnect(config.mqtt.port)).toBe(false);
    expect(await canConnect(config.http.port)).toBe(false);
  });

  it('the all-in-one process composes every app; the database is created in InfluxDB at start', async () => {
    const config = await configFor('all_in_one');
    let app: INestApplication | undefined;
    try {
      app = await createApp(config, ALL_APPS);
      const { body } = await health(config);
      expect(body).toEqual({
        status: 'ok',
        apps: ['ingest', 'analytics', 'alerts', 'reports', 'api'],
        checks: { state: 'up', influx: 'up', broker: 'up', spool: 'up' },
      });
      const info = (await (await fetch(`http://127.0.0.1:${config.http.port}/api/v1`)).json()) as {
        apps: string[];
      };
      expect(info.apps).toHaveLength(5);
      const databases = await (await influxd.client('_internal_probe')).query('SHOW DATABASES');
      expect(databases[0]?.rows.map((r) => r['name'])).toContain('all_in_one');
    } finally {
      await app?.close();
    }
  });

  it('reports InfluxDB down as degraded (503) without failing to start', async () => {
    const config = {
      ...(await configFor('unused')),
      influx: { url: `http://127.0.0.1:${await freePort()}`, database: 'x' },
    };
    const app = await createApp(config, [API_APP]);
    try {
      expect(await health(config)).toEqual({
        status: 503,
        body: { status: 'degraded', apps: ['api'], checks: { state: 'up', influx: 'down' } },
      });
    } finally {
      await app.close();
    }
  });

  it('releases what a failed start opened: the broker port of a start whose HTTP port was taken is free again', async () => {
    const config = await configFor('failed-start');
    // the HTTP port is taken by another process's listener: the start fails after the embedded broker listened
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(config.http.port, '127.0.0.1', resolve));
    try {
      await expect(createApp(config, [INGEST_APP])).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    expect(await canConnect(config.mqtt.port)).toBe(false);
    // the same ports again: nothing of the failed start holds them
    const app = await createApp(config, [INGEST_APP]);
    await app.close();
  });
});
