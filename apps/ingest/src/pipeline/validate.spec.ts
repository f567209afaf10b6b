import { join } from 'node:path';
import { deviceSchema, loadRegistry } from '@peakwatch/registry';
import { parseTimestamp, validateMessage } from './validate';

const registry = loadRegistry(join(__dirname, '../../../../seeds/sites'));
const NOW = Date.UTC(2026, 10, 21, 8, 0, 0);
const LIMITS = { maxPayloadBytes: 1024, maxBatch: 3, maxFutureMs: 300_000, horizonMs: 35 * 86_400_000 };
const validate = (topic: string, body: unknown) =>
  validateMessage(
    { topic, payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), nowMs: NOW },
    registry,
    LIMITS,
  );

describe('validateMessage', () => {
  it('writes a reading as one telemetry line with the registry tags, sorted, and the device timestamp', () => {
    const result = validate('energy/v1/hd-b1/b1-grid/telemetry', {
      ts: NOW - 60_000,
      seq: 42,
      values: { energy_import_kwh: 12345.67, power_kw: 12.3 },
    });
    expect(result).toEqual({
      lines: [
        `telemetry,device=b1-grid,district=haidian,kind=electricity_meter,role=grid,site=hd-b1 energy_import_kwh=12345.67,power_kw=12.3,seq=42i ${NOW - 60_000}`,
      ],
      accepted: 1,
      rejections: [],
      span: { siteId: 'hd-b1', deviceId: 'b1-grid', earliestMs: NOW - 60_000, latestMs: NOW - 60_000 },
    });
  });

  it('gives the time span of the accepted readings of a batch (for the late-data mark), not of the refused ones', () => {
    const result = validate('energy/v1/hd-b1/b1-grid/telemetry', [
      { ts: NOW - 2 * 3_600_000, values: { power_kw: 1 } },
      { ts: NOW - 3 * 3_600_000, values: { power_kw: 1 } },
      { ts: NOW - 100 * 86_400_000, values: { power_kw: 1 } }, // beyond the horizon: refused
    ]);
    expect(result.accepted).toBe(2);
    expect(result.span).toEqual({
      siteId: 'hd-b1',
      deviceId: 'b1-grid',
      earliestMs: NOW - 3 * 3_600_000,
      latestMs: NOW - 2 * 3_600_000,
    });
  });

  it('accepts RFC 3339 timestamps with an offset: 16:00+08:00 is 08:00Z', () => {
    expect(parseTimestamp('2026-11-21T16:00:00+08:00')).toBe(NOW);
    expect(parseTimestamp('2026-11-21T16:00:00')).toBeUndefined(); // no offset
    expect(parseTimestamp(1.5)).toBeUndefined();
    expect(parseTimestamp(-1)).toBeUndefined();
  });

  it.each<[string, string, unknown, string]>([
    ['bad topic', 'energy/v1/hd-b1/telemetry', {}, 'bad_topic'],
    ['unknown device', 'energy/v1/hd-b1/b9-x/telemetry', {}, 'unknown_device'],
    ['site mismatch', 'energy/v1/hd-b2/b1-grid/telemetry', {}, 'site_mismatch'],
    ['malformed JSON', 'energy/v1/hd-b1/b1-grid/telemetry', '{"ts":', 'malformed_json'],
    ['too large', 'energy/v1/hd-b1/b1-grid/telemetry', 'x'.repeat(1025), 'payload_too_large'],
    ['batch too large', 'energy/v1/hd-b1/b1-grid/telemetry', [1, 2, 3, 4], 'batch_too_large'],
    ['bad status', 'energy/v1/hd-b1/b1-grid/status', 'sleeping', 'bad_status'],
    ['bad event', 'energy/v1/hd-b1/b1-grid/event', { ts: NOW, type: 'meter_replaced' }, 'bad_event'],
    // names every object has through its prototype are no metrics
    [
      'constructor',
      'energy/v1/hd-b1/b1-grid/telemetry',
      { ts: NOW, values: { constructor: 1 } },
      'unknown_metric',
    ],
    ['toString', 'energy/v1/hd-b1/b1-grid/telemetry', { ts: NOW, values: { toString: 1 } }, 'unknown_metric'],
    [
      '__proto__',
      'energy/v1/hd-b1/b1-grid/telemetry',
      '{"ts":1795248000000,"values":{"__proto__":1}}',
      'unknown_metric',
    ],
    [
      'a register event for constructor',
      'energy/v1/hd-b1/b1-grid/event',
      { ts: NOW, type: 'meter_replaced', final: { constructor: 1 }, start: { energy_import_kwh: 0 } },
      'bad_event',
    ],
  ])('%s → %s', (_name, topic, body, reason) => {
    const result = validate(topic, body);
    expect(result.lines).toEqual([]);
    expect(result.rejections.map((r) => r.reason)).toEqual([reason]);
  });

  it('keeps the good readings of a batch and names the bad ones by index', () => {
    const result = validate('energy/v1/hd-b1/b1-grid/telemetry', [
      { ts: NOW, values: { power_kw: 1 } },
      { ts: NOW, values: { power_kw: null } },
      { ts: NOW + 3_600_000, values: { power_kw: 1 } },
    ]);
    expect(result.accepted).toBe(1);
    expect(result.rejections.map((r) => [r.reason, r.detail])).toEqual([
      ['bad_value', 'reading 1: power_kw = null'],
      ['timestamp_in_future', `reading 2: ${new Date(NOW + 3_600_000).toISOString()}`],
    ]);
  });

  it('accepts a device provisioned at run time on the topic it was refused on before', () => {
    const own = loadRegistry(join(__dirname, '../../../../seeds/sites'));
    const topic = 'energy/v1/hd-b1/b1-new/telemetry';
    const reading = { ts: NOW, values: { power_kw: 2 } };
    const check = () =>
      validateMessage({ topic, payload: Buffer.from(JSON.stringify(reading)), nowMs: NOW }, own, LIMITS);
    expect(check().rejections.map((r) => r.reason)).toEqual(['unknown_device']);
    own.addDevice('hd-b1', deviceSchema.parse({ id: 'b1-new', kind: 'electricity_meter', role: 'grid' }));
    expect(check().lines).toEqual([
      `telemetry,device=b1-new,district=haidian,kind=electricity_meter,role=grid,site=hd-b1 power_kw=2 ${NOW}`,
    ]);
    // and the other registry, without it, still refuses it
    expect(validate(topic, reading).rejections.map((r) => r.reason)).toEqual(['unknown_device']);
  });

  it('refuses the readings and events of a removed meter stamped after its removal, and keeps those up to it', () => {
    const own = loadRegistry(join(__dirname, '../../../../seeds/sites'));
    const removedAt = NOW - 3_600_000;
    own.addDevice(
      'hd-b1',
      deviceSchema.parse({
        id: 'b1-old',
        kind: 'electricity_meter',
        role: 'grid',
        removedAt: new Date(removedAt).toISOString().replace('Z', '+00:00'),
      }),
    );
    const send = (channel: string, body: unknown) =>
      validateMessage(
        {
          topic: `energy/v1/hd-b1/b1-old/${channel}`,
          payload: Buffer.from(JSON.stringify(body)),
          nowMs: NOW,
        },
        own,
        LIMITS,
      );
    const batch = send('telemetry', [
      { ts: removedAt - 300_000, values: { energy_import_kwh: 10 } },
      { ts: removedAt, values: { energy_import_kwh: 11 } },
      { ts: removedAt + 300_000, values: { energy_import_kwh: 12 } },
    ]);
    expect(batch.accepted).toBe(2); // its final reading, at the removal, too
    expect(batch.rejections.map((r) => [r.reason, r.detail.slice(0, 9)])).toEqual([
      ['device_removed', 'reading 2'],
    ]);
    expect(
      send('event', { ts: removedAt + 1, type: 'register_reset' }).rejections.map((r) => r.reason),
    ).toEqual(['device_removed']);
  });

  it('stores a status change and a meter replacement', () => {
    expect(validate('energy/v1/hd-b1/b1-grid/status', 'offline').lines).toEqual([
      `device_status,device=b1-grid,site=hd-b1 status="offline" ${NOW}`,
    ]);
    expect(
      validate('energy/v1/hd-b1/b1-grid/event', {
        ts: NOW,
        type: 'meter_replaced',
        final: { energy_import_kwh: 98765.4 },
        start: { energy_import_kwh: 0 },
      }).lines,
    ).toEqual([
      `meter_event,device=b1-grid,district=haidian,kind=electricity_meter,role=grid,site=hd-b1,type=meter_replaced final_energy_import_kwh=98765.4,start_energy_import_kwh=0,count=1i ${NOW}`,
    ]);
  });
});
