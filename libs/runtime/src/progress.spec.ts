import { Progress, progressFields, progressText } from './progress';

describe('progress', () => {
  it('states the rate and the time left at that rate', () => {
    // 12,000 of 30,000 rows in 4 s: 3,000/s, 18,000 left: 6 s
    const f = progressFields(12_000, 30_000, 4_000);
    expect(f).toEqual({ done: 12_000, total: 30_000, percent: 40, perSecond: 3000, leftSeconds: 6 });
    expect(progressText('import', 'rows', f)).toBe('import: 40.0% 12,000 of 30,000 rows, 3,000/s, 6 s left');
    // without a total: how many and how fast
    expect(progressText('import', 'rows', progressFields(500, undefined, 2_000))).toBe(
      'import: 500 rows, 250/s',
    );
    // work bounded by time (a benchmark's 20 s phase, 5 s in): the time left is the time to its end
    expect(progressText('load', 'readings', progressFields(40_000, undefined, 5_000, 15_000))).toBe(
      'load: 40,000 readings, 8,000/s, 15 s left',
    );
  });

  it('redraws one line on a terminal, and writes a JSON line every interval otherwise', () => {
    let t = 0;
    const written: string[] = [];
    const terminal = { isTTY: true, write: (s: string) => written.push(s) > 0 };
    const bar = new Progress('backfill', 'readings', { total: 100, stream: terminal, now: () => t });
    t = 1_000;
    bar.update(10);
    t = 1_100; // within 200 ms: not redrawn
    bar.update(11);
    t = 2_000;
    bar.finish(20);
    expect(written).toEqual([
      '\rbackfill: 10.0% 10 of 100 readings, 10/s, 9 s left\x1b[K',
      '\rbackfill: 20.0% 20 of 100 readings, 10/s, 8 s left\x1b[K',
      '\n',
    ]);
    const lines: string[] = [];
    const file = { isTTY: false, write: (s: string) => lines.push(s) > 0 };
    const start = 1_700_000_000_000;
    t = start;
    const log = new Progress('import', 'rows', { stream: file, everyMs: 10_000, now: () => t });
    for (t = start + 1_000; t <= start + 25_000; t += 1_000) log.update((t - start) / 10);
    // the first 10 s after the start (not at the first update), then every 10 s
    expect(lines.map((l) => (JSON.parse(l) as { done: number }).done)).toEqual([1000, 2000]);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'progress',
      task: 'import',
      unit: 'rows',
      perSecond: 100,
    });
  });

  it("gives an app's logger its lines, never the terminal", () => {
    let t = 0;
    const written: string[] = [];
    const logged: unknown[] = [];
    const run = new Progress('reports', 'reports', {
      total: 40,
      stream: { isTTY: true, write: (s: string) => written.push(s) > 0 },
      log: (fields) => logged.push(fields),
      now: () => t,
    });
    t = 10_000;
    run.update(20);
    expect(written).toEqual([]);
    // 20 of 40 in 10 s: 2/s, 10 s left
    expect(logged).toEqual([
      { task: 'reports', unit: 'reports', done: 20, total: 40, percent: 50, perSecond: 2, leftSeconds: 10 },
    ]);
  });
});
