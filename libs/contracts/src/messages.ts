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
  dr: {
    subject: '[PeakWatch] demand response: {{site}} from {{from}} to {{to}}',
    asks: 'A demand-response event asks site {{site}} (district {{district}}) to reduce its load from {{from}} to {{to}}: {{kw}} kW requested of its {{count}} site(s) together.',
    reason: 'Reason: {{reason}}',
    event: 'Event: {{id}}',
  },
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
  dr: {
    subject: '[PeakWatch] 需求响应：{{site}}，{{from}} 至 {{to}}',
    asks: '需求响应事件要求站点 {{site}}（辖区 {{district}}）在 {{from}} 至 {{to}} 期间降低负荷：本事件 {{count}} 个站点合计需削减 {{kw}} kW。',
    reason: '原因：{{reason}}',
    event: '事件：{{id}}',
  },
};

export const MESSAGES: Record<'zh-CN' | 'en', Messages> = { 'zh-CN': zhCN, en };
