import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobLeases, StateStore, slotOf } from '@peakwatch/state';
import { startPostgres, type TestPostgres } from '../support/postgres';

// Short leases, so that a takeover happens within the test: 300 ms without renewal, renewed every 100 ms.
const TIMING = { ttlMs: 300, renewMs: 100 };
const PARTS = ['sites-0', 'sites-1', 'sites-2', 'sites-3', 'sites-4', 'sites-5', 'sites-6', 'sites-7'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Scheduled work leased across replicas (docs/deployment.md, "Replicas"): three holders stand for three replicas of
 * `peakwatch start` on one PostgreSQL. A holder that claims a part and then neither renews nor finishes it is what
 * the store sees of a replica killed with SIGKILL.
 */
describe('job leases on PostgreSQL', () => {
  let postgres: TestPostgres;
  let store: StateStore;
  beforeAll(async () => {
    postgres = await startPostgres();
    store = await StateStore.open({ kind: 'postgres', url: await postgres.database() });
  });
  afterAll(async () => {
    await store?.close();
    await postgres?.stop();
  });
  const replicas = () => ['a', 'b', 'c'].map((h) => new JobLeases(store, Date.now, TIMING, `replica-${h}`));

  it('does each part of a run once, shared among the replicas that run it at the same time', async () => {
    const done: string[] = [];
    const slot = slotOf(Date.UTC(2026, 2, 1, 8, 17), 15 * 60_000);
    const results = await Promise.all(
      replicas().map((r) =>
        r.runParts('kpi', slot, PARTS, async (part) => {
          await sleep(50);
          done.push(part);
        }),
      ),
    );
    expect(done.sort()).toEqual(PARTS);
    expect(results.every((r) => r.complete)).toBe(true);
    // each replica did some, and the three together every part once
    expect(results.map((r) => r.did.length).every((n) => n >= 1)).toBe(true);
    expect(results.flatMap((r) => r.did).sort()).toEqual(PARTS);
    expect(slot).toBe('2026-03-01T08:15:00.000Z');
    // a replica that comes late finds the run done and does nothing
    expect(
      await replicas()[0]!.runParts('kpi', slot, PARTS, () => Promise.reject(new Error('ran twice'))),
    ).toEqual({ did: [], complete: true });
  });

  it("keeps what each part's work returned, for the part that ends the run, whichever replica did it", async () => {
    const slot = slotOf(Date.UTC(2026, 2, 1, 9, 2), 15 * 60_000);
    // the KPI shares return their sums as text; work that returns nothing (or not text) keeps nothing
    await Promise.all(
      replicas().map((r) =>
        r.runParts('kpi', slot, PARTS, async (part) => {
          await sleep(20);
          return part === 'sites-7' ? undefined : `sums of ${part}`;
        }),
      ),
    );
    const results = await replicas()[2]!.results('kpi', slot);
    expect([...results].sort()).toEqual(PARTS.slice(0, 7).map((part) => [part, `sums of ${part}`]));
    // another run's are its own
    expect((await replicas()[0]!.results('kpi', slotOf(Date.UTC(2026, 2, 1, 9, 17), 15 * 60_000))).size).toBe(
      0,
    );
  });

  it('keeps the result of the replica that took a part over, not that of the holder that finished late', async () => {
    // a job of its own: no earlier run of it, held by another test, makes the stalled holder wait
    const slot = '2026-03-01T09:30:00.000Z';
    // a stalled holder (its clock behind: its lease is over as soon as it is granted), still working on the part
    const stalled = new JobLeases(store, () => Date.now() - 10_000, TIMING, 'replica-stalled');
    let finish!: () => void;
    const late = stalled.runParts('kpi-takeover', slot, ['sites-0'], async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      return 'sums of the stalled holder';
    });
    await sleep(50);
    const [taker] = replicas();
    expect(
      await taker!.runParts('kpi-takeover', slot, ['sites-0'], () => Promise.resolve('sums of the taker')),
    ).toEqual({
      did: ['sites-0'],
      complete: true,
    });
    finish();
    await late;
    expect([...(await taker!.results('kpi-takeover', slot))]).toEqual([['sites-0', 'sums of the taker']]);
  });

  it("takes over the part of a replica that stopped renewing its lease, within the lease's time", async () => {
    const [dead, alive] = replicas();
    const slot = '2026-03-01T09:00:00.000Z';
    expect(await dead!.claim('alerts', slot, 'all')).toBe('granted'); // and then it is killed
    const startedMs = Date.now();
    const result = await alive!.runParts('alerts', slot, ['all'], () => Promise.resolve());
    expect(result).toEqual({ did: ['all'], complete: true });
    const waitedMs = Date.now() - startedMs;
    expect(waitedMs).toBeGreaterThanOrEqual(TIMING.ttlMs - 50);
    const row = await store.db
      .selectFrom('job_lease')
      .selectAll()
      .where('job', '=', 'alerts')
      .where('slot', '=', slot)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ holder: 'replica-b', takeovers: 1 });
    expect(row.done_at).not.toBeNull();
  });

  it('never takes over a part whose holder keeps renewing it, however long it works', async () => {
    const [slow, waiting] = replicas();
    const slot = '2026-03-01T10:00:00.000Z';
    const ran: string[] = [];
    const slowRun = slow!.runParts('reports', slot, ['all'], async () => {
      await sleep(4 * TIMING.ttlMs); // four leases long: renewed meanwhile
      ran.push('slow');
    });
    await sleep(20);
    const waited = await waiting!.runParts('reports', slot, ['all'], () =>
      Promise.resolve(ran.push('waiting')),
    );
    await slowRun;
    expect(ran).toEqual(['slow']);
    expect(waited).toEqual({ did: [], complete: true });
  });

  it('does not start a run while an earlier run of the job is held, and gives up at its deadline', async () => {
    const [first, second] = replicas();
    expect(await first!.claim('kpi', '2026-03-01T11:00:00.000Z', 'rest')).toBe('granted');
    expect(await second!.claim('kpi', '2026-03-01T11:15:00.000Z', 'sites-0')).toBe('held');
    const result = await second!.runParts(
      'kpi',
      '2026-03-01T11:15:00.000Z',
      ['sites-0'],
      () => Promise.reject(new Error('ran beside the earlier run')),
      Date.now() + 150,
    );
    expect(result).toEqual({ did: [], complete: false });
  });

  it('releases a part whose work failed at once, for another replica, and reports the failure', async () => {
    const [failing, other] = replicas();
    const slot = '2026-03-01T12:00:00.000Z';
    await expect(
      failing!.runParts('alerts', slot, ['all'], () => Promise.reject(new Error('influxd unreachable'))),
    ).rejects.toThrow('influxd unreachable');
    const startedMs = Date.now();
    expect(await other!.runParts('alerts', slot, ['all'], () => Promise.resolve())).toEqual({
      did: ['all'],
      complete: true,
    });
    expect(Date.now() - startedMs).toBeLessThan(TIMING.ttlMs); // no wait for the lease to run out
  });
});

describe('job leases on SQLite', () => {
  it('are not shared: a process with SQLite runs its jobs alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'peakwatch-leases-'));
    const store = await StateStore.open({ kind: 'sqlite', file: join(dir, 'state.sqlite') });
    try {
      expect(new JobLeases(store, Date.now, TIMING).shared).toBe(false);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
