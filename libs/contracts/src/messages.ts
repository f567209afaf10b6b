import { en as apiEn, zhCN as apiZhCN } from './api-messages';
import { en as cliEn, zhCN as cliZhCN } from './cli-messages';

/**
 * Every text a person reads in a notification, in each language (i18n.ts). Terms follow the plans' own
 * wording (docs/glossary.md). A spec checks that both languages have the same keys and values.
 */
const en = {
  alert: {
    subject: '[PeakWatch] {{state}}: {{title}} ({{entity}})',
    state: { firing: 'firing', resolved: 'resolved', escalated: 'escalated' },
    severity: { critical: 'critical', warning: 'warning', info: 'info' },
    entityType: { site: 'site', device: 'device' },
    stateLine: 'State: {{state}} (episode {{episode}}), severity {{severity}}, at {{at}}',
    entityLine: 'Entity: {{type}} {{id}} ({{name}}), site {{site}}, district {{district}}',
    valueAbove: 'Value: {{value}}, above the threshold of {{threshold}}',
    valueBelow: 'Value: {{value}}, below the threshold of {{threshold}}',
    noValue: 'Value: none (threshold {{threshold}})',
    windowLine: 'Window: {{period}} from {{start}}',
    judgedFrom: 'Judged on the readings since monitoring began, {{at}}',
    source: 'Source: {{document}}',
    sourceClause: 'Source: {{document}}, {{clause}}',
    cost: 'Expected differential tariff this year: {{cny}} CNY',
    dataQualityTitle: 'Too few readings to judge: {{title}}',
  },
  incident: {
    subject: '[PeakWatch] incident {{state}}: {{title}}',
    state: { opened: 'opened', resolved: 'resolved' },
    title: {
      broker: 'PeakWatch outage: its MQTT broker could not be reached',
      influxdb: 'PeakWatch outage: its time-series database (InfluxDB) could not be reached',
      ingest: 'PeakWatch outage: its ingest service was not running',
      segment: 'Network segment {{cause}}: its sites stopped reporting',
      gateway: 'Gateway {{cause}}: the devices behind it stopped reporting',
      site: 'Site {{cause}}: several data-quality alerts at once',
    },
    platform:
      'This is an outage of PeakWatch itself, not of your meters: the missing readings of this period are attributed to the platform, and nothing needs to be done at your sites.',
    opened: 'Opened at {{at}}, with {{count}} alerts of this cause.',
    resolved: 'Opened at {{opened}} and resolved at {{at}}; {{count}} alerts of this cause, all resolved.',
    member: '{{title}}: {{entity}} at site {{site}}, since {{firedAt}}',
    more: 'And {{count}} more alerts, listed in the attached JSON.',
  },
  dr: {
    subject: '[PeakWatch] demand response: {{site}} from {{from}} to {{to}}',
    asks: 'A demand-response event asks site {{site}} (district {{district}}) to reduce its load from {{from}} to {{to}}: {{kw}} kW requested of its {{count}} site(s) together.',
    reason: 'Reason: {{reason}}',
    event: 'Event: {{id}}',
  },
  api: apiEn,
  cli: cliEn,
};

type Messages = typeof en;

const zhCN: Messages = {
  alert: {
    subject: '[PeakWatch] {{state}}：{{title}}（{{entity}}）',
    state: { firing: '告警', resolved: '已恢复', escalated: '已升级' },
    severity: { critical: '严重', warning: '警告', info: '提示' },
    entityType: { site: '站点', device: '设备' },
    stateLine: '状态：{{state}}（第 {{episode}} 次），级别：{{severity}}，时间：{{at}}',
    entityLine: '对象：{{type}} {{id}}（{{name}}），站点 {{site}}，辖区 {{district}}',
    valueAbove: '数值：{{value}}，高于阈值 {{threshold}}',
    valueBelow: '数值：{{value}}，低于阈值 {{threshold}}',
    noValue: '数值：无（阈值 {{threshold}}）',
    windowLine: '统计窗口：{{period}}，起于 {{start}}',
    judgedFrom: '依据自开始监测（{{at}}）以来的读数判断',
    source: '依据：{{document}}',
    sourceClause: '依据：{{document}}，{{clause}}',
    cost: '预计本年差别电价：{{cny}} 元',
    dataQualityTitle: '读数不足，无法判断：{{title}}',
  },
  incident: {
    subject: '[PeakWatch] 事件{{state}}：{{title}}',
    state: { opened: '发生', resolved: '已恢复' },
    title: {
      broker: 'PeakWatch 平台故障：MQTT 消息服务器无法连接',
      influxdb: 'PeakWatch 平台故障：时序数据库（InfluxDB）无法连接',
      ingest: 'PeakWatch 平台故障：数据接入服务未运行',
      segment: '网段 {{cause}}：所接站点停止上报数据',
      gateway: '网关 {{cause}}：所接设备停止上报数据',
      site: '站点 {{cause}}：多项数据质量告警同时发生',
    },
    platform:
      '这是 PeakWatch 平台自身的故障，并非贵单位计量设备的故障：此期间缺失的读数归因于平台，站点无需处理。',
    opened: '发生于 {{at}}，同一原因的告警共 {{count}} 项。',
    resolved: '发生于 {{opened}}，恢复于 {{at}}；同一原因的告警共 {{count}} 项，均已恢复。',
    member: '{{title}}：{{entity}}，站点 {{site}}，自 {{firedAt}} 起',
    more: '另有 {{count}} 项告警，见所附 JSON。',
  },
  dr: {
    subject: '[PeakWatch] 需求响应：{{site}}，{{from}} 至 {{to}}',
    asks: '需求响应事件要求站点 {{site}}（辖区 {{district}}）在 {{from}} 至 {{to}} 期间降低负荷：本事件 {{count}} 个站点合计需削减 {{kw}} kW。',
    reason: '原因：{{reason}}',
    event: '事件：{{id}}',
  },
  api: apiZhCN,
  cli: cliZhCN,
};

export const MESSAGES: Record<'zh-CN' | 'en', Messages> = { 'zh-CN': zhCN, en };
