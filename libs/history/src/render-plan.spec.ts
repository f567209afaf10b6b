import { rejectionsCsv, renderPlan } from './render-plan';
import type { ImportPlan } from './import-plan';

describe('the refused rows as CSV, and the dry run as text', () => {
  it("quotes every text cell and defuses what a spreadsheet would take for a formula, ',' or ';' separated", () => {
    const csv = rejectionsCsv([
      { row: 2, field: 'site', reason: 'unknown_site', detail: '=HYPERLINK("http://x")' },
      { row: 3, field: 'device', reason: 'unknown_device', detail: 'x;@SUM(A1)' },
    ]);
    expect(csv).toBe(
      'row,field,reason,detail\n' +
        '2,"site","unknown_site","\'=HYPERLINK(""http://x"")"\n' +
        '3,"device","unknown_device","x;\'@SUM(A1)"\n',
    );
    // split on ';' as some locales do, no cell begins with a formula character
    for (const cell of csv.split(/[;,\n]/)) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+\-@]/);
  });

  it("prints a file's control characters (a terminal escape) as '?'", () => {
    const plan = {
      fileName: 'a\u001b]0;owned\u0007.csv',
      fileSha256: '0'.repeat(64),
      layout: 'readings',
      rows: { read: 1, accepted: 0, rejected: 1, replaced: 0 },
      rejections: [
        { row: 2, field: 'site', reason: 'unknown_site', detail: 'x\u001b[2J is not in the registry' },
      ],
      rejectionCounts: { unknown_site: 1 },
      devices: [],
      windowCounts: {},
      windows: [],
      reports: [],
    } as ImportPlan;
    const lines = renderPlan(plan);
    for (const l of lines) expect([...l].filter((c) => c.charCodeAt(0) < 0x20)).toEqual([]);
    const text = lines.join('\n');
    expect(text).toContain('a?]0;owned?.csv');
    expect(text).toContain('refused: row 2, site: unknown_site: x?[2J is not in the registry');
  });
});
