import { METRICS, translator, type Language } from '@peakwatch/contracts';
import { csvCell } from '@peakwatch/runtime';
import type { ImportPlan } from './import-plan';

/** Refused rows printed at most (all of them are in `--json` and in the batch's rejections). */
const REJECTIONS_SHOWN = 20;

const figure = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: 3 });

/**
 * The dry run as a person reads it (the command line's output), in `language`: the texts `cli.plan.*` of the
 * messages (libs/contracts cli-messages.ts); ids, codes and the file's own cells as they are.
 */
export function renderPlan(plan: ImportPlan, language: Language = 'en'): string[] {
  const tr = translator(language);
  const t = (key: string, values: Record<string, unknown> = {}): string => tr(`cli.plan.${key}`, values);
  const list = (items: string[]): string => items.join(tr('cli.list.items'));
  const lines = [
    t('file', { file: printable(plan.fileName), layout: plan.layout, sha256: plan.fileSha256 }),
    t('rows', {
      read: plan.rows.read,
      accepted: plan.rows.accepted,
      refused: plan.rows.rejected,
      replaced: plan.rows.replaced,
    }),
  ];
  for (const r of plan.rejections.slice(0, REJECTIONS_SHOWN))
    lines.push(t('refused', { row: r.row, field: r.field, reason: r.reason, detail: printable(r.detail) }));
  if (plan.rows.rejected > REJECTIONS_SHOWN)
    lines.push(
      t('moreRefused', {
        counts: list(
          Object.entries(plan.rejectionCounts).map(([reason, rows]) => t('refusedCount', { rows, reason })),
        ),
      }),
    );
  for (const d of plan.devices) {
    const device = {
      site: d.siteId,
      device: d.deviceId,
      readings: d.readings,
      from: new Date(d.fromMs).toISOString(),
      to: new Date(d.toMs).toISOString(),
    };
    lines.push(d.replaced ? t('deviceReplacing', { ...device, replaced: d.replaced }) : t('device', device));
  }
  for (const [site, counts] of Object.entries(plan.windowCounts))
    lines.push(t('windows', { site, quarterHours: counts['15m'], hours: counts['1h'], days: counts['1d'] }));
  for (const w of plan.windows) {
    const kpis = Object.entries(w.kpis).map(([kpi, v]) =>
      t('windowKpi', { kpi, before: figure(v.before), after: figure(v.after), stored: figure(v.stored) }),
    );
    lines.push(t('window', { site: w.siteId, period: w.period, label: w.label, kpis: list(kpis) }));
    for (const m of w.meters) {
      const meter = {
        device: m.deviceId,
        metric: m.metric,
        before: figure(m.before),
        after: figure(m.after),
        unit: METRICS[m.metric].unit,
      };
      lines.push(
        m.anomaliesAfter ? t('meterAnomalies', { ...meter, anomalies: m.anomaliesAfter }) : t('meter', meter),
      );
    }
  }
  for (const r of plan.reports)
    lines.push(t('report', { organisation: r.orgId, period: r.period, version: r.version }));
  return lines;
}

/**
 * Refused rows as CSV (RFC 4180 quoting), to download. A cell that a spreadsheet would take for a formula (=, +, -, @)
 * is prefixed with an apostrophe: the details quote the file's own cells.
 */
export function rejectionsCsv(
  rows: readonly { row: number; field: string; reason: string; detail: string }[],
): string {
  return [
    'row,field,reason,detail',
    ...rows.map((r) => [String(r.row), ...[r.field, r.reason, r.detail].map(csvCell)].join(',')),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** Text from a file as a terminal shows it: its control characters (an escape sequence) as `?`. */
const printable = (s: string): string =>
  [...s]
    .map((c) => (c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) < 0xa0) ? '?' : c))
    .join('');
