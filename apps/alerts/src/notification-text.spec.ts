import { join } from 'node:path';
import { LANGUAGES, incidentTitle, type Language } from '@peakwatch/contracts';
import { loadAlertRules, loadPolicyData } from '@peakwatch/policy';
import type { Site } from '@peakwatch/registry';
import type { DrAnnouncement } from '@peakwatch/state';
import { alertNotifications } from './alert-notifier';
import { evaluate } from './evaluation';
import type { IncidentNotification } from './notification';
import { alertMail, drMail, incidentMail } from './notification-text';

const SEEDS = join(__dirname, '../../../seeds');
const policy = loadPolicyData(SEEDS);
const rules = loadAlertRules(join(SEEDS, 'alert-rules'), policy);
const site = { id: 'hd-dc1', name: '海淀数据中心 1', district: 'haidian' } as Site;
const everyLanguage = (language: Language) => ({ facility_manager: language, regulator: language });
/** Words of the English templates that must not appear in a Chinese text. */
const ENGLISH =
  /\b(State|Entity|Value|Window|Source|Judged|Expected|episode|severity|threshold|firing|resolved)\b/;

describe('notification texts', () => {
  it('has every seeded rule titled in both languages', () => {
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules) {
      expect({ rule: rule.id, zh: rule.titleZh === undefined }).toEqual({ rule: rule.id, zh: false });
      expect(rule.titles).toEqual({ en: rule.title, 'zh-CN': rule.titleZh });
    }
  });

  // every seeded rule and its data-quality alert, in every state, with and without each optional part
  const cases = rules.flatMap((rule) => {
    const dq = evaluate(rule, { value: 1, completeness: 0 }).dataQuality?.rule;
    return [rule, ...(dq ? [dq] : [])].flatMap((r) =>
      LANGUAGES.flatMap((language) =>
        (['firing', 'resolved', 'escalated'] as const).map((state) => [r.id, language, state, r] as const),
      ),
    );
  });

  it.each(cases)('%s in %s, %s', (_id, language, state, rule) => {
    const full = alertNotifications(
      rule,
      {
        entity: site.id,
        type: 'site',
        name: site.name,
        site,
        value: state === 'resolved' ? null : 1.42,
        completeness: 0.97,
        window: { period: '1mo', startMs: Date.UTC(2026, 2, 31, 16), endMs: Date.UTC(2026, 3, 30, 16) },
        judgedFromMs: Date.UTC(2026, 3, 3),
        expectedCostCny: 12_345,
      },
      state,
      2,
      '2026-04-10T00:00:00.000Z',
      undefined,
      everyLanguage(language),
    );
    for (const n of full) {
      // a missing text throws (libs/contracts i18n): rendering is the check
      const mail = alertMail(n);
      expect(n.rule.title).toBe(rule.titles[language]);
      expect(mail.subject).toContain(rule.titles[language]);
      expect(mail.text).toContain('hd-dc1');
      if (language === 'zh-CN') {
        expect(`${mail.subject}\n${mail.text}`).not.toMatch(ENGLISH);
        expect(mail.subject).toMatch(/^\[PeakWatch\] (告警|已恢复|已升级)：/);
      } else expect(mail.subject).toMatch(/^\[PeakWatch\] (firing|resolved|escalated): /);
    }
  });

  it('writes a regulator’s e-mail in Chinese, values and all', () => {
    const rule = rules.find((r) => r.id === 'dc-pue-rolling-new')!;
    const [n] = alertNotifications(
      rule,
      { entity: site.id, type: 'site', name: site.name, site, value: 1.42, completeness: 0.97 },
      'firing',
      1,
      '2026-04-10T00:00:00.000Z',
      '2026-04-10T00:00:00.000Z',
      { facility_manager: 'en', regulator: 'zh-CN' },
      ['regulator'],
    );
    expect(alertMail(n!)).toEqual({
      subject:
        '[PeakWatch] 告警：新建数据中心滚动 12 个月电能利用效率（PUE）超过限值（1.3）（海淀数据中心 1）',
      text: [
        '新建数据中心滚动 12 个月电能利用效率（PUE）超过限值（1.3）',
        '状态：告警（第 1 次），级别：严重，时间：2026-04-10T00:00:00.000Z',
        '对象：站点 hd-dc1（海淀数据中心 1），站点 hd-dc1，辖区 haidian',
        '数值：1.42，高于阈值 1.3',
        `依据：${rule.policySource.document}`,
        '',
      ].join('\n'),
    });
  });

  it('announces a demand-response event in either language', () => {
    const d: DrAnnouncement = {
      kind: 'dr_event',
      id: 'dr-1',
      district: 'haidian',
      siteId: 'hd-b1',
      startsAt: '2026-07-20T06:00:00.000Z',
      endsAt: '2026-07-20T07:00:00.000Z',
      requestedKw: 300,
      sites: 3,
      reason: 'grid peak',
      at: '2026-07-19T00:00:00.000Z',
    };
    expect(drMail(d, 'en').subject).toBe(
      '[PeakWatch] demand response: hd-b1 from 2026-07-20T06:00:00.000Z to 2026-07-20T07:00:00.000Z',
    );
    expect(drMail(d, 'zh-CN')).toEqual({
      subject: '[PeakWatch] 需求响应：hd-b1，2026-07-20T06:00:00.000Z 至 2026-07-20T07:00:00.000Z',
      text: [
        '需求响应事件要求站点 hd-b1（辖区 haidian）在 2026-07-20T06:00:00.000Z 至 2026-07-20T07:00:00.000Z 期间降低负荷：本事件 3 个站点合计需削减 300 kW。',
        '原因：grid peak',
        '事件：dr-1',
        '',
      ].join('\n'),
    });
  });

  const incident = (language: Language, kind: IncidentNotification['incident']['kind'], cause: string) => {
    const member = (i: number): IncidentNotification['members'][number] => ({
      rule: { id: 'device-silent', title: rules.find((r) => r.id === 'device-silent')!.titles[language] },
      entity: { type: 'device', id: `b1-m${i}`, name: `b1-m${i}`, siteId: 'hd-b1', district: 'haidian' },
      firedAt: '2026-03-10T02:51:00.000Z',
    });
    return {
      type: 'incident',
      language,
      incident: {
        id: 'i-1',
        kind,
        cause,
        title: incidentTitle(language, kind, cause),
        platform: kind === 'platform',
      },
      state: 'opened',
      openedAt: '2026-03-10T02:51:00.000Z',
      at: '2026-03-10T02:51:00.000Z',
      members: Array.from({ length: 23 }, (_, i) => member(i)),
      audience: 'facility_manager',
    } satisfies IncidentNotification;
  };

  // every kind of incident, opened and resolved, in both languages: a missing text throws
  it.each(
    LANGUAGES.flatMap((language) =>
      (
        [
          ['platform', 'broker'],
          ['platform', 'influxdb'],
          ['platform', 'ingest'],
          ['segment', 'hd-link'],
          ['gateway', 'gw-b2'],
          ['site', 'hd-b1'],
        ] as const
      ).flatMap(([kind, cause]) =>
        (['opened', 'resolved'] as const).map((state) => [language, kind, cause, state] as const),
      ),
    ),
  )('an incident in %s: %s %s, %s', (language, kind, cause, state) => {
    const n = { ...incident(language, kind, cause), state, resolvedAt: '2026-03-10T03:10:00.000Z' };
    const lines = incidentMail(n).text.split('\n');
    const zh = language === 'zh-CN';
    // the title, the platform's sentence for PeakWatch's own outage only, then when it opened (and resolved)
    expect(lines[0]).toBe(n.incident.title);
    expect(lines[0]).toContain(kind === 'platform' ? 'PeakWatch' : cause);
    const platform = zh ? '这是 PeakWatch 平台自身的故障' : 'This is an outage of PeakWatch itself';
    expect(lines.filter((l) => l.startsWith(platform))).toHaveLength(kind === 'platform' ? 1 : 0);
    const when = lines[kind === 'platform' ? 2 : 1]!;
    expect(when).toContain('2026-03-10T02:51:00.000Z');
    expect(when.includes('2026-03-10T03:10:00.000Z')).toBe(state === 'resolved');
    expect(when).toContain('23');
    // no English word of the templates in a Chinese e-mail
    if (zh)
      expect(lines.join('\n')).not.toMatch(/\b(Opened|opened|resolved|alerts|since|Gateway|Site|Network)\b/);
  });

  it('tells a facility manager in Chinese that the platform failed, not their meters, listing 20 of 23 members', () => {
    const mail = incidentMail(incident('zh-CN', 'platform', 'broker'));
    expect(mail.subject).toBe('[PeakWatch] 事件发生：PeakWatch 平台故障：MQTT 消息服务器无法连接');
    expect(mail.text.split('\n')).toEqual([
      'PeakWatch 平台故障：MQTT 消息服务器无法连接',
      '这是 PeakWatch 平台自身的故障，并非贵单位计量设备的故障：此期间缺失的读数归因于平台，站点无需处理。',
      '发生于 2026-03-10T02:51:00.000Z，同一原因的告警共 23 项。',
      '',
      ...Array.from(
        { length: 20 },
        (_, i) => `设备 15 分钟无数据：b1-m${i}，站点 hd-b1，自 2026-03-10T02:51:00.000Z 起`,
      ),
      '另有 3 项告警，见所附 JSON。',
      '',
    ]);
    // a gateway's incident is the site's equipment: no platform sentence
    expect(
      incidentMail(incident('en', 'gateway', 'gw-b2'))
        .text.split('\n')
        .slice(0, 2),
    ).toEqual([
      'Gateway gw-b2: the devices behind it stopped reporting',
      'Opened at 2026-03-10T02:51:00.000Z, with 23 alerts of this cause.',
    ]);
  });
});
