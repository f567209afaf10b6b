import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from './spool';

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns appended records in order, and nothing twice once committed', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await Promise.all(['a 1', 'b 2', 'c 3'].map((r) => spool.append(r)));
    expect(spool.depth).toBe(3);
    const batch = spool.read({ maxRecords: 2, maxBytes: 1e6 })!;
    expect(batch.records).toEqual(['a 1', 'b 2']);
    spool.commit(batch.next, batch.records.length);
    expect(spool.read({ maxRecords: 10, maxBytes: 1e6 })!.records).toEqual(['c 3']);
    expect(spool.depth).toBe(1);
    await spool.close();
  });

  it('re-reads uncommitted records after a rewind (a failed write) and after a restart', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    for (const r of ['x', 'y', 'z']) await spool.append(r);
    const first = spool.read({ maxRecords: 1, maxBytes: 1e6 })!;
    spool.commit(first.next, 1);
    expect(spool.read({ maxRecords: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    spool.rewind();
    expect(spool.read({ maxRecords: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    await spool.close();

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.depth).toBe(2);
    expect(reopened.read({ maxRecords: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    await reopened.close();
  });

  it('cuts a torn tail left by a crash (a write never acknowledged) and keeps appending after it', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await spool.append('kept');
    await spool.close();
    // half a frame: a length of 100 bytes, a checksum, and 3 bytes of data
    const torn = Buffer.alloc(11);
    torn.writeUInt32LE(100, 0);
    appendFileSync(join(dir, 'segment-000001.log'), torn);

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.depth).toBe(1);
    await reopened.append('after');
    expect(reopened.read({ maxRecords: 10, maxBytes: 1e6 })!.records).toEqual(['kept', 'after']);
    await reopened.close();
  });

  it('rotates segments and deletes the drained ones', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9, segmentBytes: 64 });
    for (let i = 0; i < 10; i++) await spool.append(`record number ${i} with some padding`);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(3);
    const all: string[] = [];
    for (
      let batch = spool.read({ maxRecords: 3, maxBytes: 1e6 });
      batch;
      batch = spool.read({ maxRecords: 3, maxBytes: 1e6 })
    ) {
      all.push(...batch.records);
      spool.commit(batch.next, batch.records.length);
    }
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => `record number ${i} with some padding`));
    expect(spool.depth).toBe(0);
    expect(spool.bytes).toBe(0);
    await spool.close(); // the checkpoint is written in the background; close waits for it
    const left = readdirSync(dir).filter((f) => f.startsWith('segment-'));
    expect(left).toHaveLength(1);
    // the checkpoint points at the end of the one segment left: everything is drained
    expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toEqual({
      segment: Number(/\d+/.exec(left[0]!)![0]),
      offset: statSync(join(dir, left[0]!)).size,
    });
  });

  it('is full at its disk budget', async () => {
    // each record costs 8 bytes of frame + 12 bytes of data = 20 bytes
    const spool = await Spool.open({ dir, maxBytes: 60 });
    await spool.append('0123456789ab');
    await spool.append('0123456789ab');
    expect(spool.bytes).toBe(40);
    expect(spool.full).toBe(false);
    await spool.append('0123456789ab');
    expect(spool.full).toBe(true);
    const batch = spool.read({ maxRecords: 1, maxBytes: 1e6 })!;
    spool.commit(batch.next, 1);
    expect(spool.full).toBe(false);
    await spool.close();
  });

  it('gathers concurrent appends into one write (group commit)', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    let wakeups = 0;
    spool.onAppend(() => wakeups++);
    await Promise.all(Array.from({ length: 500 }, (_, i) => spool.append(`r${i}`)));
    expect(spool.depth).toBe(500);
    expect(wakeups).toBeLessThan(10); // one fdatasync for many appends
    await spool.close();
  });
});

describe('Spool budget', () => {
  it('counts appends still waiting for their write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-budget-'));
    try {
      // 8 + 12 = 20 bytes per record: a burst of 5 reaches a 60-byte budget before anything is written
      const spool = await Spool.open({ dir, maxBytes: 60 });
      const writes = Array.from({ length: 5 }, () => spool.append('0123456789ab'));
      expect(spool.full).toBe(true);
      await Promise.all(writes);
      expect(spool.bytes).toBe(100);
      await spool.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
