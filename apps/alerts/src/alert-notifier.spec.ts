import type { AlertRule } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';
import { alertNotifications, alertTargets, escalationAudience } from './alert-notifier';
import type { AlertNotification } from './notification';

const receivers = {
  webhooks: [
    { audience: 'regulator' as const, url: 'https://city.example/hook' },
    { audience: 'regulator' as const, district: 'haidian', url: 'https://haidian.example/hook' },
    { audience: 'regulator' as const, district: 'chaoyang', url: 'https://chaoyang.example/hook' },
    { audience: 'facility_manager' as const, url: 'https://fm.example/hook' },
  ],
  emails: [
    { audience: 'facility_manager' as const, district: 'haidian', address: 'fm-haidian@example.org' },
    { audience: 'regulator' as const, address: 'desk@example.org' },
  ],
};

const at = (audience: AlertNotification['audience'], district: string) => ({
  audience,
  entity: { type: 'site' as const, id: 's1', name: 'S1', siteId: 's1', district },
});

describe('alertTargets: where a notification goes', () => {
  it.each([
    {
      case: "a regulator's alert in Haidian: the city's and Haidian's webhooks, the regulators' desk, the site's topic",
      notification: at('regulator', 'haidian'),
      targets: [
        ['webhook', 'https://city.example/hook'],
        ['webhook', 'https://haidian.example/hook'],
        ['email', 'desk@example.org'],
        ['mqtt', 'alerts/v1/haidian/s1'],
      ],
    },
    {
      case: "a regulator's alert in Xicheng: never a receiver bound to another district",
      notification: at('regulator', 'xicheng'),
      targets: [
        ['webhook', 'https://city.example/hook'],
        ['email', 'desk@example.org'],
        ['mqtt', 'alerts/v1/xicheng/s1'],
      ],
    },
    {
      case: "a facility manager's alert in Haidian: never a regulator's receiver",
      notification: at('facility_manager', 'haidian'),
      targets: [
        ['webhook', 'https://fm.example/hook'],
        ['email', 'fm-haidian@example.org'],
        ['mqtt', 'alerts/v1/haidian/s1'],
      ],
    },
    {
      case: 'no receiver configured: the MQTT topic alone',
      notification: at('regulator', 'haidian'),
      receivers: { webhooks: [], emails: [] },
      targets: [['mqtt', 'alerts/v1/haidian/s1']],
    },
  ])('$case', ({ notification, targets, ...more }) => {
    expect(alertTargets(more.receivers ?? receivers, notification)).toEqual(targets);
  });
});

describe('escalationAudience: who hears of a firing alert left unacknowledged', () => {
  it.each([
    { audience: ['regulator'], escalated: ['regulator'] },
    { audience: ['facility_manager', 'regulator'], escalated: ['regulator'] },
    // an early warning, a forecast or a data-quality alert never reaches a regulator by escalation
    { audience: ['facility_manager'], escalated: ['facility_manager'] },
  ] as { audience: AlertRule['audience']; escalated: AlertRule['audience'] }[])(
    '$audience -> $escalated',
    ({ audience, escalated }) => {
      expect(escalationAudience({ audience })).toEqual(escalated);
    },
  );
});

describe('alertNotifications', () => {
  const rule = {
    id: 'dc-pue',
    title: 'PUE above the limit',
    titles: { en: 'PUE above the limit', 'zh-CN': '电能利用效率（PUE）超过限值' },
    severity: 'warning',
    audience: ['facility_manager', 'regulator'],
    thresholdValue: 1.3,
    comparison: 'above',
    policySource: { document: 'doc', clause: '1' },
  } as unknown as AlertRule;
  const site = { id: 'dc1', name: 'DC 1', district: 'haidian' } as Site;

  // the facility manager's in English, the regulator's in Chinese (ALERT_LANGUAGES)
  const languages = { facility_manager: 'en', regulator: 'zh-CN' } as const;

  it('gives one notification per audience with the window, its judged part and the cost rounded to a yuan', () => {
    const notifications = alertNotifications(
      rule,
      {
        entity: 'dc1',
        type: 'site',
        name: 'DC 1',
        site,
        value: 1.42,
        completeness: 0.97,
        window: { period: '1mo', startMs: Date.UTC(2026, 2, 31, 16), endMs: Date.UTC(2026, 3, 30, 16) },
        judgedFromMs: Date.UTC(2026, 3, 3),
        expectedCostCny: 12_345.6,
      },
      'firing',
      2,
      '2026-04-10T00:00:00.000Z',
      '2026-04-10T00:00:00.000Z',
      languages,
    );
    expect(notifications.map((n) => n.audience)).toEqual(['facility_manager', 'regulator']);
    expect(notifications[0]).toMatchObject({ language: 'en', rule: { title: 'PUE above the limit' } });
    expect(notifications[1]).toEqual({
      language: 'zh-CN',
      rule: { id: 'dc-pue', title: '电能利用效率（PUE）超过限值' },
      severity: 'warning',
      state: 'firing',
      episode: 2,
      entity: { type: 'site', id: 'dc1', name: 'DC 1', siteId: 'dc1', district: 'haidian' },
      value: 1.42,
      threshold: 1.3,
      comparison: 'above',
      window: { period: '1mo', start: '2026-03-31T16:00:00.000Z' },
      completeness: 0.97,
      judgedFrom: '2026-04-03T00:00:00.000Z',
      at: '2026-04-10T00:00:00.000Z',
      firedAt: '2026-04-10T00:00:00.000Z',
      policySource: { document: 'doc', clause: '1' },
      expectedCostCny: 12_346,
      audience: 'regulator',
    });
  });

  it('leaves out what the reading does not have (a silent device: no window, completeness or cost)', () => {
    const [n] = alertNotifications(
      { ...rule, audience: ['facility_manager'] },
      { entity: 'dc1-meter', type: 'device', name: 'meter', site, value: 45 },
      'resolved',
      1,
      '2026-04-10T00:00:00.000Z',
      undefined,
      languages,
    );
    expect(Object.keys(n!).sort()).toEqual(
      [
        'language',
        'rule',
        'severity',
        'state',
        'episode',
        'entity',
        'value',
        'threshold',
        'comparison',
        'at',
        'policySource',
        'audience',
      ].sort(),
    );
  });
});
