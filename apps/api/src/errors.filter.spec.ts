import type { ArgumentsHost } from '@nestjs/common';
import { PeakWatchError } from '@peakwatch/contracts';
import { DeviceRefusedError } from '@peakwatch/registry';
import { AuthThrottledError } from '@peakwatch/state';
import { PeakWatchErrorFilter } from './errors.filter';

class SecretLeak extends PeakWatchError {
  readonly code = 'migration_failed';
}

/** What the filter answered: status, headers and body, through an Express-shaped response. */
function answer(error: PeakWatchError) {
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
  };
  // how Nest's own 500 answers (the HTTP adapter), for the codes the filter leaves to it
  const adapter = {
    isHeadersSent: () => false,
    reply: (_res: unknown, body: unknown, status: number) => response.status(status).json(body),
    end: () => undefined,
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => response }),
    getArgByIndex: () => response,
  } as unknown as ArgumentsHost;
  new PeakWatchErrorFilter(adapter as never).catch(error, host);
  return sent;
}

describe('PeakWatchErrorFilter: one place from error codes to HTTP statuses', () => {
  it.each<[PeakWatchError, number, string]>([
    [new DeviceRefusedError('taken', 'id', 'b1-grid is taken'), 409, 'device_id_taken'],
    [new DeviceRefusedError('invalid', 'kind', 'bad kind'), 400, 'invalid_device'],
    [new DeviceRefusedError('unknown', 'siteId', 'no site zz'), 404, 'unknown_site'],
  ])('%s → %s', (error, status, code) => {
    expect(answer(error)).toMatchObject({ status, body: { statusCode: status, code, field: error.field } });
  });

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
