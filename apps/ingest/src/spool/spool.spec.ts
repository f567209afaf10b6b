import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Spool } from './spool';

/** Appends a record and resolves once it is on disk. */
function append(spool: Spool, record: string): Promise<void> {
  return new Promise((resolve, reject) =>
    spool.append(record, (error) => (error ? reject(error) : resolve())),
  );
}

/**
 * The real file system, with each segment handle's `writev` and `datasync` recorded in `events` as they start and
 * end; `syncGate`, while set, holds every `datasync` until it resolves, and `syncError` makes the next one fail.
 */
function observedFiles(events: string[]) {
  const control: { syncGate?: Promise<void>; syncError?: Error } = {};
  const openFile = async (path: string, flags: 'a' | 'w'): Promise<FileHandle> => {
    const handle = await open(path, flags);
    if (!path.endsWith('.log')) return handle; // the checkpoint is not on the acknowledgement's path
    return Object.assign(Object.create(handle) as FileHandle, {
      writev: async (buffers: NodeJS.ArrayBufferView[]) => {
        events.push('writev');
        return handle.writev(buffers);
      },
      datasync: async () => {
        events.push('datasync started');
        await control.syncGate;
        const error = control.syncError;
        control.syncError = undefined;
        if (error) throw error;
        await handle.datasync();
        events.push('datasync returned');
      },
      truncate: (length?: number) => handle.truncate(length),
      close: () => handle.close(),
    });
  };
  return { openFile, control };
}

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns appended records in order, a group in one frame, and nothing twice once committed', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await append(spool, 'a 1');
    // appended in the same turn of the event loop: one group, written as one frame
    await Promise.all(['b 2', 'c 3\nc 4'].map((r) => append(spool, r)));
    await append(spool, 'd 5');
    expect(spool.depth).toBe(5); // lines
    // a frame is never split: the second (3 lines) would pass maxLines
    const first = spool.read({ maxLines: 2, maxBytes: 1e6 })!;
    expect(first).toMatchObject({ records: ['a 1'], lines: 1 });
    spool.commit(first.next, first.lines);
    expect(spool.depth).toBe(4);
    const rest = spool.read({ maxLines: 10, maxBytes: 1e6 })!;
    expect(rest).toMatchObject({ records: ['b 2\nc 3\nc 4', 'd 5'], lines: 4 });
    spool.commit(rest.next, rest.lines);
    expect(spool.read({ maxLines: 10, maxBytes: 1e6 })).toBeUndefined();
    expect(spool.depth).toBe(0);
    await spool.close();
  });

  it('cuts a large group into frames of at most 5,000 lines', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await Promise.all(Array.from({ length: 12_000 }, (_, i) => append(spool, `m v=${i}`)));
    const batch = spool.read({ maxLines: 10_000, maxBytes: 1e9 })!;
    expect(batch.records.map((r) => r.split('\n').length)).toEqual([5000, 5000]);
    expect(batch.records[1]!.split('\n')[0]).toBe('m v=5000');
    spool.commit(batch.next, batch.lines);
    expect(spool.read({ maxLines: 10_000, maxBytes: 1e9 })!.lines).toBe(2000);
    await spool.close();
    // recovery counts lines, not frames
    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.depth).toBe(2000);
    await reopened.close();
  });

  it('re-reads uncommitted records after a rewind (a failed write) and after a restart', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    for (const r of ['x', 'y', 'z']) await append(spool, r);
    const first = spool.read({ maxLines: 1, maxBytes: 1e6 })!;
    spool.commit(first.next, 1);
    expect(spool.read({ maxLines: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    spool.rewind();
    expect(spool.read({ maxLines: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    await spool.close();

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.depth).toBe(2);
    expect(reopened.read({ maxLines: 10, maxBytes: 1e6 })!.records).toEqual(['y', 'z']);
    await reopened.close();
  });

  it('cuts a torn tail left by a crash (a write never acknowledged) and keeps appending after it', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    await append(spool, 'kept');
    await spool.close();
    // half a frame: a length of 100 bytes, a checksum, and 3 bytes of data
    const torn = Buffer.alloc(11);
    torn.writeUInt32LE(100, 0);
    appendFileSync(join(dir, 'segment-000001.log'), torn);

    const reopened = await Spool.open({ dir, maxBytes: 1e9 });
    expect(reopened.depth).toBe(1);
    await append(reopened, 'after');
    expect(reopened.read({ maxLines: 10, maxBytes: 1e6 })!.records).toEqual(['kept', 'after']);
    await reopened.close();
  });

  it('rotates segments and deletes the drained ones', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9, segmentBytes: 64 });
    for (let i = 0; i < 10; i++) await append(spool, `record number ${i} with some padding`);
    expect(readdirSync(dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(3);
    const all: string[] = [];
    for (
      let batch = spool.read({ maxLines: 3, maxBytes: 1e6 });
      batch;
      batch = spool.read({ maxLines: 3, maxBytes: 1e6 })
    ) {
      all.push(...batch.records);
      spool.commit(batch.next, batch.lines);
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
    // each record, appended alone, costs 8 bytes of frame header + 12 bytes of data = 20 bytes
    const spool = await Spool.open({ dir, maxBytes: 60 });
    await append(spool, '0123456789ab');
    await append(spool, '0123456789ab');
    expect(spool.bytes).toBe(40);
    expect(spool.full).toBe(false);
    await append(spool, '0123456789ab');
    expect(spool.full).toBe(true);
    const batch = spool.read({ maxLines: 1, maxBytes: 1e6 })!;
    spool.commit(batch.next, 1);
    expect(spool.full).toBe(false);
    await spool.close();
  });

  it('gathers concurrent appends into one write (group commit)', async () => {
    const spool = await Spool.open({ dir, maxBytes: 1e9 });
    let wakeups = 0;
    spool.onAppend(() => wakeups++);
    await Promise.all(Array.from({ length: 500 }, (_, i) => append(spool, `r${i}`)));
    expect(spool.depth).toBe(500);
    expect(wakeups).toBe(1); // one write and one fdatasync for all of them
    expect(spool.read({ maxLines: 10_000, maxBytes: 1e6 })!.records).toEqual([
      Array.from({ length: 500 }, (_, i) => `r${i}`).join('\n'),
    ]);
    await spool.close();
  });
});

describe('Spool budget', () => {
  it('counts appends still waiting for their write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-budget-'));
    try {
      // 12 bytes and a newline per record: a burst of 5 reaches a 60-byte budget before anything is written
      const spool = await Spool.open({ dir, maxBytes: 60 });
      const writes = Array.from({ length: 5 }, () => append(spool, '0123456789ab'));
      expect(spool.full).toBe(true);
      await Promise.all(writes);
      expect(spool.bytes).toBe(8 + 5 * 12 + 4); // one frame: header, and the records joined by newlines
      await spool.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Spool durability: the acknowledgement follows fdatasync (observed through the file seam)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('calls back an append only after fdatasync has returned, and not while the sync is held', async () => {
    const events: string[] = [];
    const { openFile, control } = observedFiles(events);
    const spool = await Spool.open({ dir, maxBytes: 1e9, openFile });
    let release!: () => void;
    control.syncGate = new Promise((resolve) => (release = resolve));
    const durable = append(spool, 'a 1').then(() => events.push('acknowledged'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the write and the sync have started
    expect(events).toEqual(['writev', 'datasync started']); // held: not acknowledged
    release();
    await durable;
    expect(events).toEqual(['writev', 'datasync started', 'datasync returned', 'acknowledged']);
    await spool.close();
  });

  it('passes a failed fdatasync to every append of the group, and keeps nothing of it', async () => {
    const events: string[] = [];
    const { openFile, control } = observedFiles(events);
    const spool = await Spool.open({ dir, maxBytes: 1e9, openFile });
    control.syncError = new Error('EIO: the disk failed');
    const results = await Promise.allSettled(['a 1', 'b 2'].map((r) => append(spool, r)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(spool.depth).toBe(0);
    await append(spool, 'c 3'); // the next group is written after the last good frame
    expect(spool.read({ maxLines: 10, maxBytes: 1e6 })).toMatchObject({ records: ['c 3'], lines: 1 });
    await spool.close();
  });
});
