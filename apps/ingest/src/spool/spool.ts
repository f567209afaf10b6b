import {
  mkdirSync,
  readdirSync,
  statSync,
  unlinkSync,
  openSync,
  closeSync,
  fsyncSync,
  readSync,
  ftruncateSync,
  readFileSync,
} from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The ingest spool: an append-only log of accepted records (line protocol) on local disk, between the MQTT
 * acknowledgement and InfluxDB.
 *
 * fsync policy: every append is acknowledged only after the data is on disk. Appends made while a write is in
 * progress are gathered and written together, followed by one `fdatasync` (group commit), so the cost of a sync is
 * shared by every message that arrived meanwhile. A crash (SIGKILL, power cut) can lose only records that were never
 * acknowledged. The drained position is kept in `checkpoint.json` (written to a temporary file, synced, renamed, at
 * most once a second, in the background); after a crash the records after it are sent again, which InfluxDB absorbs
 * (same series and time = same point).
 *
 * Layout: `DATA_DIR/spool/segment-000001.log`, ... Each record is framed as [length u32 LE][crc32 u32 LE][bytes];
 * on start, a torn or corrupt tail of the last segment (a write that never completed, so never acknowledged) is cut.
 */
export interface SpoolOptions {
  dir: string;
  /** Disk budget (bytes); `full` is true at or above it. */
  maxBytes: number;
  /** A segment is closed and a new one started beyond this size (bytes). */
  segmentBytes?: number;
}

export interface SpoolCursor {
  segment: number;
  offset: number;
}

export interface SpoolBatch {
  records: string[];
  /** Where reading continues; pass to `commit` once the records are stored. */
  next: SpoolCursor;
  bytes: number;
}

const HEADER_BYTES = 8;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT = 'checkpoint.json';
/** Shortest time between two checkpoint writes (ms). */
const CHECKPOINT_INTERVAL_MS = 1_000;
const segmentName = (n: number): string => `segment-${String(n).padStart(6, '0')}.log`;

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class Spool {
  private writeHandle: FileHandle | undefined;
  private writeSegment: number;
  private writeOffset: number;
  private pending: Buffer[] = [];
  private pendingWaiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private readCursor: SpoolCursor;
  private committed: SpoolCursor;
  private recordsAppended = 0;
  private recordsCommitted = 0;
  private readonly listeners = new Set<() => void>();
  private closed = false;
  /** Size of each segment on disk (bytes). */
  private readonly sizes = new Map<number, number>();
  /** Bytes appended but not yet written. */
  private pendingBytes = 0;
  private checkpointing: Promise<void> | undefined;
  private checkpointDue = false;
  private lastCheckpointAt = 0;
  private wakeCheckpoint: (() => void) | undefined;

  private constructor(
    private readonly options: Required<SpoolOptions>,
    state: { writeSegment: number; writeOffset: number; committed: SpoolCursor; depth: number },
  ) {
    this.writeSegment = state.writeSegment;
    this.writeOffset = state.writeOffset;
    this.committed = state.committed;
    this.readCursor = { ...state.committed };
    this.recordsAppended = state.depth;
  }

  /** Opens (or creates) the spool, recovering from a crash: the torn tail is cut, the depth recounted. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const full = { segmentBytes: DEFAULT_SEGMENT_BYTES, ...options };
    mkdirSync(full.dir, { recursive: true });
    const segments = listSegments(full.dir);
    let committed: SpoolCursor = readCheckpoint(full.dir) ?? { segment: segments[0] ?? 1, offset: 0 };
    for (const n of segments) if (n < committed.segment) unlinkSync(join(full.dir, segmentName(n)));
    if (!segments.includes(committed.segment))
      committed = { segment: segments.find((n) => n > committed.segment) ?? committed.segment, offset: 0 };
    let depth = 0;
    let last = { segment: committed.segment, offset: 0 };
    for (const n of listSegments(full.dir)) {
      const { records, validBytes, size } = scanSegment(
        join(full.dir, segmentName(n)),
        n === committed.segment ? committed.offset : 0,
      );
      depth += records;
      if (validBytes < size) {
        const fd = openSync(join(full.dir, segmentName(n)), 'r+');
        ftruncateSync(fd, validBytes);
        fsyncSync(fd);
        closeSync(fd);
      }
      last = { segment: n, offset: validBytes };
    }
    const spool = new Spool(full, { writeSegment: last.segment, writeOffset: last.offset, committed, depth });
    for (const n of listSegments(full.dir)) spool.sizes.set(n, statSync(join(full.dir, segmentName(n))).size);
    spool.sizes.set(last.segment, last.offset);
    spool.writeHandle = await open(join(full.dir, segmentName(last.segment)), 'a');
    return spool;
  }

  /** Records appended but not yet committed as stored. */
  get depth(): number {
    return this.recordsAppended - this.recordsCommitted;
  }

  /** Bytes on disk not yet drained. */
  get bytes(): number {
    let total = -this.committed.offset;
    for (const [n, size] of this.sizes) if (n >= this.committed.segment) total += size;
    return total;
  }

  /**
   * True when the spool has reached its disk budget, counting appends still waiting for their write: stop
   * acknowledging until it drains.
   */
  get full(): boolean {
    return this.bytes + this.pendingBytes >= this.options.maxBytes;
  }

  /** Called after every durable append (the drainer wakes up). */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Appends a record; resolves once it is on disk (fdatasync), rejects if it could not be written. */
  append(record: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    const bytes = Buffer.from(record, 'utf8');
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(bytes.length, 0);
    header.writeUInt32LE(crc32(bytes), 4);
    this.pending.push(header, bytes);
    this.pendingBytes += HEADER_BYTES + bytes.length;
    const done = new Promise<void>((resolve, reject) => this.pendingWaiters.push({ resolve, reject }));
    if (!this.flushing) this.flushing = this.flushLoop();
    return done;
  }

  /** Reads the next records after the last read position (not yet committed), up to the limits. */
  read({ maxRecords, maxBytes }: { maxRecords: number; maxBytes: number }): SpoolBatch | undefined {
    const records: string[] = [];
    let bytes = 0;
    let cursor = { ...this.readCursor };
    while (records.length < maxRecords && bytes < maxBytes) {
      const end =
        cursor.segment === this.writeSegment ? this.writeOffset : (this.sizes.get(cursor.segment) ?? 0);
      if (cursor.offset >= end) {
        if (cursor.segment >= this.writeSegment) break;
        cursor = { segment: cursor.segment + 1, offset: 0 };
        continue;
      }
      const chunk = Math.min(end - cursor.offset, Math.max(maxBytes - bytes, HEADER_BYTES) + HEADER_BYTES);
      const buffer = this.readAt(cursor.segment, cursor.offset, Math.max(chunk, HEADER_BYTES));
      let pos = 0;
      let progressed = false;
      while (pos + HEADER_BYTES <= buffer.length && records.length < maxRecords) {
        const length = buffer.readUInt32LE(pos);
        if (pos + HEADER_BYTES + length > buffer.length) {
          if (!progressed) {
            // A record larger than the chunk: read exactly it.
            const whole = this.readAt(cursor.segment, cursor.offset + pos + HEADER_BYTES, length);
            records.push(whole.toString('utf8'));
            bytes += length;
            pos += HEADER_BYTES + length;
            progressed = true;
          }
          break;
        }
        records.push(buffer.toString('utf8', pos + HEADER_BYTES, pos + HEADER_BYTES + length));
        bytes += length;
        pos += HEADER_BYTES + length;
        progressed = true;
        if (bytes >= maxBytes) break;
      }
      cursor = { segment: cursor.segment, offset: cursor.offset + pos };
      if (!progressed) break;
    }
    if (records.length === 0) return undefined;
    this.readCursor = cursor;
    return { records, next: cursor, bytes };
  }

  /**
   * Marks everything before `cursor` as stored. The checkpoint is persisted in the background, at most once per
   * CHECKPOINT_INTERVAL_MS, and drained segments are deleted once a checkpoint past them is on disk.
   */
  commit(cursor: SpoolCursor, records: number): void {
    this.committed = { ...cursor };
    this.recordsCommitted += records;
    this.checkpointDue = true;
    if (!this.checkpointing) this.checkpointing = this.checkpointLoop();
  }

  /** Forgets reads that were not committed (a failed write): the next `read` starts again at the checkpoint. */
  rewind(): void {
    this.readCursor = { ...this.committed };
  }

  /** Waits for pending appends and the last checkpoint, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    this.wakeCheckpoint?.();
    while (this.checkpointing) await this.checkpointing;
    await this.writeHandle?.close();
    this.writeHandle = undefined;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const buffers = this.pending;
        const waiters = this.pendingWaiters;
        this.pending = [];
        this.pendingWaiters = [];
        this.pendingBytes = 0;
        try {
          const data = Buffer.concat(buffers);
          if (this.writeOffset > 0 && this.writeOffset + data.length > this.options.segmentBytes)
            await this.rotate();
          await this.writeHandle!.write(data, 0, data.length, null);
          await this.writeHandle!.datasync();
          this.writeOffset += data.length;
          this.sizes.set(this.writeSegment, this.writeOffset);
          this.recordsAppended += waiters.length;
          for (const w of waiters) w.resolve();
          for (const listener of this.listeners) listener();
        } catch (error) {
          for (const w of waiters) w.reject(error as Error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Persists the committed position (temporary file, fdatasync, rename) and deletes the segments before it. Between
   * two checkpoints a crash only means that the records drained since the last one are written again, which
   * InfluxDB absorbs; the sync stays off the event loop and off the hot path.
   */
  private async checkpointLoop(): Promise<void> {
    try {
      while (this.checkpointDue) {
        const wait = this.lastCheckpointAt + CHECKPOINT_INTERVAL_MS - Date.now();
        if (wait > 0 && !this.closed)
          await new Promise<void>((resolve) => {
            this.wakeCheckpoint = resolve;
            setTimeout(resolve, wait).unref();
          });
        this.wakeCheckpoint = undefined;
        this.checkpointDue = false;
        const cursor = { ...this.committed };
        const tmp = join(this.options.dir, `${CHECKPOINT}.tmp`);
        try {
          const handle = await open(tmp, 'w');
          try {
            await handle.writeFile(JSON.stringify(cursor));
            await handle.datasync();
          } finally {
            await handle.close();
          }
          await rename(tmp, join(this.options.dir, CHECKPOINT));
        } catch {
          // Kept for the next commit (or close): until then a restart drains from the previous checkpoint.
          this.checkpointDue = !this.closed;
          this.lastCheckpointAt = Date.now();
          continue;
        }
        this.lastCheckpointAt = Date.now();
        for (const n of [...this.sizes.keys()].filter((k) => k < cursor.segment)) {
          await unlink(join(this.options.dir, segmentName(n))).catch(() => undefined); // already gone
          this.sizes.delete(n);
        }
      }
    } finally {
      this.checkpointing = undefined;
    }
  }

  private async rotate(): Promise<void> {
    await this.writeHandle!.close();
    this.writeSegment++;
    this.writeOffset = 0;
    this.writeHandle = await open(join(this.options.dir, segmentName(this.writeSegment)), 'a');
    // The new segment's directory entry must survive a crash too.
    const dirFd = openSync(this.options.dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  }

  private readAt(segment: number, offset: number, length: number): Buffer {
    const fd = openSync(join(this.options.dir, segmentName(segment)), 'r');
    try {
      const buffer = Buffer.allocUnsafe(length);
      const read = readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }
}

function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => /^segment-(\d{6})\.log$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function readCheckpoint(dir: string): SpoolCursor | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, CHECKPOINT), 'utf8')) as SpoolCursor;
    return Number.isInteger(parsed.segment) && Number.isInteger(parsed.offset) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Counts the valid records of a segment from `from`, and where the valid part ends. */
function scanSegment(file: string, from: number): { records: number; validBytes: number; size: number } {
  const data = readFileSync(file);
  let pos = from;
  let records = 0;
  while (pos + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(pos);
    const end = pos + HEADER_BYTES + length;
    if (end > data.length || crc32(data.subarray(pos + HEADER_BYTES, end)) !== data.readUInt32LE(pos + 4))
      break;
    pos = end;
    records++;
  }
  return { records, validBytes: Math.max(pos, from), size: data.length };
}
