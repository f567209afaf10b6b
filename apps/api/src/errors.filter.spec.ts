import type { ArgumentsHost } from '@nestjs/common';
import { LANGUAGES, PeakWatchError, translator } from '@peakwatch/contracts';
import { DeviceRefusedError } from '@peakwatch/registry';
import { AuthThrottledError } from '@peakwatch/state';
import { PeakWatchErrorFilter, STATUS_OF_CODE } from './errors.filter';

class SecretLeak extends PeakWatchError {
  readonly code = 'migration_failed';
}

/** What the filter answered: status, headers and body, through an Express-shaped response. */
function answer(error: PeakWatchError, acceptLanguage?: string) {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const response = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
    vary(name: string) {
      sent.headers.Vary = name;
    },
  };
  const request = { headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage } };
  // how Nest's own 500 answers (the HTTP adapter), for the codes the filter leaves to it
  const adapter = {
    isHeadersSent: () => false,
    reply: (_res: unknown, body: unknown, status: number) => response.status(status).json(body),
    end: () => undefined,
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => response, getRequest: () => request }),
    getArgByIndex: () => response,
  } as unknown as ArgumentsHost;
  const filter = new PeakWatchErrorFilter();
  // what Nest injects into a filter it makes (the HTTP adapter)
  Object.assign(filter, { httpAdapterHost: { httpAdapter: adapter } });
  filter.catch(error, host);
  return sent;
}

describe('PeakWatchErrorFilter: one place from error codes to HTTP statuses', () => {
  it.each<[PeakWatchError, number, string]>([
    [new DeviceRefusedError('taken', 'id', 'b1-grid is taken'), 409, 'device_id_taken'],
    [new DeviceRefusedError('invalid', 'kind', 'bad kind'), 400, 'invalid_device'],
    [new DeviceRefusedError('unknown', 'siteId', 'no site zz'), 404, 'unknown_site'],
  ])('%s → %s', (error, status, code) => {
    expect(answer(error, 'en')).toMatchObject({
      status,
      body: { statusCode: status, code, field: error.field },
    });
  });

  it('says the message in the language of Accept-Language, Chinese by default; code and field stay as they are', () => {
    const error = new DeviceRefusedError('unknown', 'siteId', 'unknown site zz');
    expect(answer(error, 'en-US,en;q=0.9')).toMatchObject({
      headers: { 'Content-Language': 'en', Vary: 'Accept-Language' },
      body: { code: 'unknown_site', field: 'siteId', message: 'siteId: unknown site zz' },
    });
    for (const acceptLanguage of ['zh-CN', 'zh-TW,en;q=0.5', 'fr', undefined])
      expect(answer(error, acceptLanguage)).toMatchObject({
        headers: { 'Content-Language': 'zh-CN' },
        body: { code: 'unknown_site', field: 'siteId', message: 'siteId 所指的站点不存在。' },
      });
    expect(answer(new AuthThrottledError(42), 'zh').body).toMatchObject({
      message: '认证失败次数过多，请 42 秒后重试。',
    });
  });

  // a code given a status without its sentences fails here (MissingTranslationError), not in front of a caller
  it.each(Object.keys(STATUS_OF_CODE))(
    'has the sentences of %s in every language, with and without a field',
    (code) => {
      for (const language of LANGUAGES) {
        const t = translator(language);
        const bare = t(`api.error.${code}`, { seconds: 7 });
        const named = t(`api.error.${code}_field`, { field: 'siteId', seconds: 7 });
        expect(named).toContain('siteId');
        for (const text of [bare, named]) {
          expect(text).not.toMatch(/{{|}}/);
          // Chinese in zh-CN (its characters), none in English
          expect(/[\u4e00-\u9fff]/.test(text)).toBe(language === 'zh-CN');
        }
      }
    },
  );

  it('answers 429 with Retry-After to throttled authentication', () => {
    const sent = answer(new AuthThrottledError(42));
    expect(sent.status).toBe(429);
    expect(sent.headers['Retry-After']).toBe('42');
    expect(sent.body).toMatchObject({ code: 'auth_throttled', error: 'Too Many Requests' });
  });

  it("leaves an error it has no status for to Nest's 500, which says nothing of it", () => {
    const sent = answer(new SecretLeak('connection to postgres://peakwatch:hunter2@db failed'));
    expect(sent.status).toBe(500);
    expect(JSON.stringify(sent.body)).not.toContain('hunter2');
    expect(sent.body).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
});
