import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportPdf } from './report-pdf';
import type { Report } from './report-schema';

/** The formats each version of a report is kept in: the report, and its evidence bundle (docs/reports.md). */
export const REPORT_FORMATS = ['json', 'csv', 'pdf', 'evidence'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
/** The file name's ending of each format. */
const EXTENSIONS: Record<ReportFormat, string> = {
  json: 'json',
  csv: 'csv',
  pdf: 'pdf',
  evidence: 'evidence.zip',
};

/**
 * A report's files (docs/reports.md, "How a report is built"): DATA_DIR/reports/<org>/<period>/v<n>.<format>, one per format, written
 * once per version and never changed after.
 */
export class ReportFiles {
  constructor(private readonly dataDir: string) {}

  /** Where a version's file in a format is kept. */
  path(orgId: string, period: string, version: number, format: ReportFormat): string {
    return join(this.dir(orgId, period), `v${version}.${EXTENSIONS[format]}`);
  }

  /** A version's file in a format, or undefined. */
  read(orgId: string, period: string, version: number, format: ReportFormat): Buffer | undefined {
    try {
      return readFileSync(this.path(orgId, period, version, format));
    } catch {
      return undefined;
    }
  }

  /**
   * Writes a new version's files: the JSON, the CSV of its meter lines, the PDF (with what it corrects) and its evidence
   * bundle (report-evidence.ts).
   */
  async write(
    report: Report,
    version: number,
    restatement: { corrects?: number; changes: string[]; causes: string[] },
    evidence: Buffer,
  ): Promise<void> {
    const { id } = report.organisation;
    const period = report.period.label;
    mkdirSync(this.dir(id, period), { recursive: true });
    const file = (format: ReportFormat): string => this.path(id, period, version, format);
    writeFileSync(file('json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(file('csv'), reportCsv(report));
    writeFileSync(file('pdf'), await reportPdf(report, { version, ...restatement }));
    writeFileSync(file('evidence'), evidence);
  }

  private dir(orgId: string, period: string): string {
    return join(this.dataDir, 'reports', orgId, period);
  }
}

/** The CSV: one line per meter and metric of the period. */
export function reportCsv(report: Report): string {
  const header =
    'period,site,device,role,metric,unit,quantity,estimated,readings_received,readings_expected,completeness,batches';
  const lines = report.meters.map((m) =>
    [
      report.period.label,
      m.siteId,
      m.deviceId,
      m.role,
      m.metric,
      m.unit,
      m.quantity,
      m.estimated,
      m.readingsReceived,
      m.readingsExpected,
      m.completeness,
      // the import batches of the line's readings (ids: `imp-` and hex, no comma inside one), space-separated
      (m.batches ?? []).join(' '),
    ].join(','),
  );
  return `${[header, ...lines].join('\n')}\n`;
}
