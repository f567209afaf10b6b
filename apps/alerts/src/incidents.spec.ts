import type { AlertRule } from '@peakwatch/policy';
import { causesOf, decide, platformCause, type Held, type Outage } from './incidents';

const MIN = 60_000;
const T = Date.parse('2026-03-10T02:00:00Z');
const silence: Pick<AlertRule, 'comparison' | 'thresholdValue' | 'clearMargin' | 'signal'> = {
  signal: { silence: true },
  comparison: 'above',
  thresholdValue: 15,
  clearMargin: 0,
};
const completeness: typeof silence = {
  signal: { completeness: { kpi: 'energy_kwh', period: '1d' } },
  comparison: 'below',
  thresholdValue: 0.9,
  clearMargin: 0,
};
const broker = (fromMin: number, toMin: number | null): Outage => ({
  component: 'broker',
  startMs: T + fromMin * MIN,
  endMs: toMin === null ? null : T + toMin * MIN,
});

describe('platformCause: whether PeakWatch’s own outage explains a data-quality alert', () => {
  it('a device silent 17 minutes, 12 of them with the broker down: the broker (17 − 12 = 5 ≤ 15)', () => {
    expect(platformCause(silence, { value: 17 }, [broker(5, null)], T + 17 * MIN)).toBe('broker');
  });

  it('silent 40 minutes of which the broker covers 20: its own silence (40 − 20 = 20 > 15)', () => {
    expect(platformCause(silence, { value: 40 }, [broker(0, 20)], T + 40 * MIN)).toBeUndefined();
  });

  it('an outage that ended before the silence began explains nothing', () => {
    expect(platformCause(silence, { value: 20 }, [broker(-30, -5)], T + 20 * MIN)).toBeUndefined();
  });

  it('overlapping outages count once: broker 0–10 and influxdb 5–12 cover 12 minutes, the broker most', () => {
    const influx: Outage = { component: 'influxdb', startMs: T + 5 * MIN, endMs: T + 12 * MIN };
    // 27 − 12 = 15: not above 15, explained; 28 − 12 = 16 would not be
    expect(platformCause(silence, { value: 27 }, [broker(0, 10), influx], T + 27 * MIN)).toBe('broker');
    expect(platformCause(silence, { value: 28 }, [broker(-1, 10), influx], T + 28 * MIN)).toBeUndefined();
  });

  it('names the component whose outages cover most of it, summed over its outages', () => {
    // broker 0–5 and 10–15 (10 minutes together) against influxdb 20–28 (8 minutes), in a silence of 30
    const influx: Outage = { component: 'influxdb', startMs: T + 20 * MIN, endMs: T + 28 * MIN };
    expect(platformCause(silence, { value: 30 }, [broker(0, 5), broker(10, 15), influx], T + 30 * MIN)).toBe(
      'broker',
    );
  });

  it('explains nothing without a value, nor a rule that is neither a silence nor a completeness', () => {
    expect(platformCause(silence, { value: null }, [broker(0, null)], T + 30 * MIN)).toBeUndefined();
    const anomalies = { ...silence, signal: { kpi: 'register_anomalies', period: '1d' as const } };
    expect(platformCause(anomalies, { value: 2 }, [broker(0, null)], T + 30 * MIN)).toBeUndefined();
  });

  it('a day at 88 % of which a 3-hour outage covers 12.5 %: the platform (88 + 12.5 ≥ 90); at 70 %: not', () => {
    const day = { startMs: T, endMs: T + 1440 * MIN, period: '1d' };
    const outage = [broker(600, 780)];
    expect(platformCause(completeness, { value: 0.88, window: day }, outage, T + 2000 * MIN)).toBe('broker');
    expect(platformCause(completeness, { value: 0.7, window: day }, outage, T + 2000 * MIN)).toBeUndefined();
  });

  it('judges a window begun before monitoring over its judged part only', () => {
    // judged from 12:00 (720 min): a 90-minute outage is 90/720 = 12.5 % of it; of the whole day only 6.25 %
    const day = { startMs: T, endMs: T + 1440 * MIN, period: '1d' };
    const reading = { value: 0.8, window: day, judgedFromMs: T + 720 * MIN };
    expect(platformCause(completeness, reading, [broker(800, 890)], T + 2000 * MIN)).toBe('broker');
    expect(
      platformCause(completeness, { value: 0.8, window: day }, [broker(800, 890)], T + 2000 * MIN),
    ).toBeUndefined();
  });
});

describe('causesOf', () => {
  it('lists the platform, the segment, the gateway and the site, broadest first', () => {
    expect(causesOf({ id: 'hd-b1', segment: 'hd-link' }, 'gw-b1', 'broker')).toEqual([
      'platform:broker',
      'segment:hd-link',
      'gateway:gw-b1',
      'site:hd-b1',
    ]);
    expect(causesOf({ id: 'hd-b1' }, undefined, undefined)).toEqual(['site:hd-b1']);
  });
});

describe('decide: held data-quality alerts into incidents', () => {
  const options = { minAlerts: 3, waitMs: 5 * MIN };
  const held = (key: string, siteId: string, heldMin: number, causes: string[]): Held => ({
    key,
    siteId,
    heldAtMs: T + heldMin * MIN,
    causes: causes as Held['causes'],
  });

  it('joins an open incident of a cause at once, without waiting', () => {
    const d = decide([held('a', 's1', 0, ['gateway:g1', 'site:s1'])], new Set(['gateway:g1']), T, options);
    expect(d).toEqual({ join: [{ key: 'a', cause: 'gateway:g1' }], open: [], release: [] });
  });

  it('joins the platform’s open incident rather than an open incident of its site', () => {
    const alert = held('a', 's1', 0, ['platform:broker', 'site:s1']);
    expect(decide([alert], new Set(['site:s1', 'platform:broker']), T, options).join).toEqual([
      { key: 'a', cause: 'platform:broker' },
    ]);
    // the platform's incident not open yet: it opens, the site's is not joined
    expect(decide([alert], new Set(['site:s1']), T, options)).toEqual({
      join: [],
      open: [{ cause: 'platform:broker', members: ['a'] }],
      release: [],
    });
  });

  it('opens the platform’s incident at once, even for one alert', () => {
    const d = decide([held('a', 's1', 0, ['platform:broker', 'site:s1'])], new Set(), T, options);
    expect(d).toEqual({ join: [], open: [{ cause: 'platform:broker', members: ['a'] }], release: [] });
  });

  it('waits until the oldest has waited, then groups by gateway; the one alone is told alone', () => {
    const alerts = [
      held('a', 's1', 0, ['gateway:g1', 'site:s1']),
      held('b', 's1', 2, ['gateway:g1', 'site:s1']),
      held('c', 's1', 4, ['gateway:g1', 'site:s1']),
      held('d', 's2', 1, ['site:s2']),
    ];
    expect(decide(alerts, new Set(), T + 4 * MIN, options)).toEqual({ join: [], open: [], release: [] });
    // d, held a minute later, has waited too at 6
    expect(decide(alerts, new Set(), T + 6 * MIN, options)).toEqual({
      join: [],
      open: [{ cause: 'gateway:g1', members: ['a', 'b', 'c'] }],
      release: ['d'],
    });
  });

  it('a segment groups only alerts of two sites or more; else the site does', () => {
    const oneSite = ['a', 'b', 'c'].map((k) => held(k, 's1', 0, ['segment:n1', 'site:s1']));
    expect(decide(oneSite, new Set(), T + 5 * MIN, options).open).toEqual([
      { cause: 'site:s1', members: ['a', 'b', 'c'] },
    ]);
    const twoSites = [...oneSite.slice(0, 2), held('z', 's2', 0, ['segment:n1', 'site:s2'])];
    expect(decide(twoSites, new Set(), T + 5 * MIN, options).open).toEqual([
      { cause: 'segment:n1', members: ['a', 'b', 'z'] },
    ]);
  });

  it('fewer than the minimum: each is told alone once it has waited, the younger wait on', () => {
    const alerts = [held('a', 's1', 0, ['site:s1']), held('b', 's1', 3, ['site:s1'])];
    expect(decide(alerts, new Set(), T + 5 * MIN, options)).toEqual({ join: [], open: [], release: ['a'] });
  });
});
