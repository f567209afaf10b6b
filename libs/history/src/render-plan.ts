import { METRICS } from '@peakwatch/contracts';
import { csvCell } from '@peakwatch/runtime';
import type { ImportPlan } from './import-plan';

/** Refused rows printed at most (all of them are in `--json` and in the batch's rejections). */
const REJECTIONS_SHOWN = 20;

const figure = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: 3 });

/** The dry run as a person reads it (the command line's output). */
export function renderPlan(plan: ImportPlan): string[] {
  const lines = [
    `import of ${printable(plan.fileName)} (${plan.layout}, SHA-256 ${plan.fileSha256})`,
    `  rows: ${plan.rows.read} read, ${plan.rows.accepted} accepted, ${plan.rows.rejected} refused; ` +
      `${plan.rows.replaced} stored readings would be replaced`,
  ];
  for (const r of plan.rejections.slice(0, REJECTIONS_SHOWN))
    lines.push(`  refused: row ${r.row}, ${r.field}: ${r.reason}: ${printable(r.detail)}`);
  if (plan.rows.rejected > REJECTIONS_SHOWN)
    lines.push(
      `  … and more: ${Object.entries(plan.rejectionCounts)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ')} in all (a batch keeps every one: import rejections <batch>)`,
    );
  for (const d of plan.devices)
    lines.push(
      `  ${d.siteId}/${d.deviceId}: ${d.readings} readings from ${new Date(d.fromMs).toISOString()} to ` +
        `${new Date(d.toMs).toISOString()}${d.replaced ? `, replacing ${d.replaced}` : ''}`,
    );
  for (const [site, counts] of Object.entries(plan.windowCounts))
    lines.push(
      `  ${site}: KPI windows recomputed: ${counts['15m']} quarter hours, ${counts['1h']} hours, ${counts['1d']} days`,
    );
  for (const w of plan.windows) {
    const kpis = Object.entries(w.kpis)
      .map(([k, v]) => `${k} ${figure(v.before)} → ${figure(v.after)} (stored now: ${figure(v.stored)})`)
      .join(', ');
    lines.push(`  ${w.siteId} ${w.period} ${w.label}: ${kpis}`);
    for (const m of w.meters)
      lines.push(
        `    ${m.deviceId} ${m.metric}: ${figure(m.before)} → ${figure(m.after)} ${METRICS[m.metric].unit}` +
          (m.anomaliesAfter ? ` (${m.anomaliesAfter} deltas the register rules cannot explain)` : ''),
      );
  }
  for (const r of plan.reports)
    lines.push(
      `  report ${r.orgId} ${r.period}: version ${r.version} would be restated if its figures change`,
    );
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
