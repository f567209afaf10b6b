import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import supertest from 'supertest';
import { API_APP, ApiKeysRepository } from '@peakwatch/api';
import { createApp } from '@peakwatch/runtime';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { testConfig } from '../support/ingest';

const CJK = /[\u4e00-\u9fff]/;

/**
 * The API's error bodies in the caller's language (docs/contracts.md, "Errors"): the API alone over HTTP, with the real
 * state store (API keys) and a real influxd. Each refusal is asked for in Chinese, in English and with no
 * Accept-Language (Chinese, the default); its `message` changes language, its `code` and `field` never do.
 */
describe('API error messages in the language of Accept-Language', () => {
  let influxd: TestInfluxd;
  let app: INestApplication;
  let dataDir: string;
  let http: ReturnType<typeof supertest>;
  const keys: Record<'admin' | 'facilityManager', string> = { admin: '', facilityManager: '' };

  beforeAll(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(join(tmpdir(), 'peakwatch-api-language-'));
    const config = await testConfig(influxd.url, 'api_language', dataDir, {
      API_RATE_LIMIT_PER_MINUTE: '100000',
    });
    app = await createApp(config, [API_APP]);
    http = supertest(app.getHttpServer() as Server);
    const repository = app.get(ApiKeysRepository);
    keys.admin = (await repository.create({ name: 'admin', role: 'admin', scope: [] })).key;
    keys.facilityManager = (
      await repository.create({ name: 'fm', role: 'facility_manager', scope: ['hd-b1'] })
    ).key;
  });
  afterAll(async () => {
    await app?.close();
    await influxd?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Each refusal: its request, its status, the body's code and field, and its English message. */
  const refusals: {
    name: string;
    path: string;
    key?: keyof typeof keys;
    status: number;
    same: Record<string, unknown>;
    english: string | RegExp;
  }[] = [
    {
      name: 'a bad query parameter (zod)',
      path: '/api/v1/kpis?entity=hd-b1&period=1w&from=2026-11-01&to=2026-11-03',
      key: 'admin',
      status: 400,
      same: { statusCode: 400, error: 'Bad Request', field: 'period' },
      english: /^period: Invalid option: expected one of "15m"\|/,
    },
    {
      name: "a bad query parameter (the API's own text)",
      path: '/api/v1/kpis?entity=Not%20An%20Id&period=1d&from=2026-11-01&to=2026-11-03',
      key: 'admin',
      status: 400,
      same: { statusCode: 400, field: 'entity', problems: [{ field: 'entity' }] },
      english: 'entity: expected a site, district or city id',
    },
    {
      name: 'no API key',
      path: '/api/v1/sites',
      status: 401,
      same: { statusCode: 401, error: 'Unauthorized' },
      english: 'an API key is required: Authorization: Bearer <key>',
    },
    {
      name: 'a role the endpoint is not for',
      path: '/api/v1/audit',
      key: 'facilityManager',
      status: 403,
      same: { statusCode: 403, error: 'Forbidden' },
      english: 'this endpoint is for admin',
    },
    {
      name: 'an unknown import batch (PeakWatchError unknown_import)',
      path: '/api/v1/imports/imp-20260101-00000000',
      key: 'admin',
      status: 404,
      same: { statusCode: 404, error: 'Not Found', code: 'unknown_import', field: 'id' },
      english: 'id: no import batch imp-20260101-00000000',
    },
    {
      name: 'an unknown site',
      path: '/api/v1/sites/no-such-site',
      key: 'admin',
      status: 404,
      same: { statusCode: 404, error: 'Not Found' },
      english: 'no site no-such-site',
    },
  ];

  const ask = (path: string, key: keyof typeof keys | undefined, acceptLanguage: string | undefined) => {
    let request = http.get(path);
    if (key) request = request.set('Authorization', `Bearer ${keys[key]}`);
    if (acceptLanguage !== undefined) request = request.set('Accept-Language', acceptLanguage);
    return request;
  };

  describe.each(refusals)('$name ($status)', ({ path, key, status, same, english }) => {
    it.each<[string, 'zh-CN' | 'en', string | undefined]>([
      ['zh-CN', 'zh-CN', 'zh-CN'],
      ['zh-Hans-CN;q=0.9, en;q=0.5', 'zh-CN', 'zh-Hans-CN;q=0.9, en;q=0.5'],
      ['en', 'en', 'en'],
      ['en-US,en;q=0.9,zh-CN;q=0.8', 'en', 'en-US,en;q=0.9,zh-CN;q=0.8'],
      ['none (the default)', 'zh-CN', undefined],
    ])('Accept-Language %s → %s', async (_name, language, acceptLanguage) => {
      const response = await ask(path, key, acceptLanguage).expect(status);
      expect(response.headers['content-language']).toBe(language);
      expect(response.headers['vary']).toMatch(/Accept-Language/i);
      const body = response.body as Record<string, unknown>;
      expect(body).toMatchObject(same);
      if (!('code' in same)) expect(body).not.toHaveProperty('code');
      const message = body['message'] as string;
      if (language === 'en') expect(message).toMatch(english);
      else expect(message).toMatch(CJK);
      // each problem of a 400 in the same language as the message
      for (const p of (body['problems'] ?? []) as { problem: string }[])
        expect(CJK.test(p.problem)).toBe(language === 'zh-CN');
    });
  });

  it('names the field in Chinese as in English: the same `field: problem`, the field as the request named it', async () => {
    const zh = (await ask(refusals[1]!.path, 'admin', 'zh-CN').expect(400)).body as { message: string };
    expect(zh.message).toBe('entity：应为站点、辖区或城市的编号');
    const unknownImport = (await ask(refusals[4]!.path, 'admin', 'zh').expect(404)).body as {
      message: string;
    };
    expect(unknownImport.message).toBe('id 所指的导入批次不存在。');
  });
});
