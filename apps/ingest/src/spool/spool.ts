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
 * The ingest spool: an append-only log of accepted records (line protocol, one or more lines each) on local disk,
 * between the MQTT acknowledgement and InfluxDB.
 *
 * fsync policy: every append is acknowledged only after the data is on disk. Appends are gathered until the event
 * loop has handled the messages already received (and while a write is in progress), then written together, followed
 * by one `fdatasync` (group commit), so the cost of a write and a sync is shared by every message of the group. A
 * crash (SIGKILL, power cut) can lose only records that were never acknowledged. The drained position is kept in
 * `checkpoint.json` (written to a temporary file, synced, renamed, at most once a second, in the background); after a
 * crash the lines after it are sent again, which InfluxDB absorbs (same series and time = same point).
 *
 * Layout: `DATA_DIR/spool/segment-000001.log`, ... A group's records, joined by newlines, are framed as
 * [length u32 LE][crc32 u32 LE][bytes], a frame holding at most FRAME_MAX_LINES lines or FRAME_MAX_CHARS characters;
 * on start, a torn or corrupt tail of the last segment (a write that never completed, so never acknowledged) is cut.
 * Depth and batches count lines, which is what InfluxDB is sent.
 */
export interface SpoolOptions {
  dir: string;
  /** Disk budget (bytes); `full` is true at or above it. */
  maxBytes: number;
  /** A segment is closed and a new one started beyond this size (bytes). */
  segmentBytes?: number;
  /**
   * Opens the files the spool writes (segments, checkpoint); node's `fs.promises.open` unless a test observes the
   * writes and syncs through its own.
   */
  openFile?: (path: string, flags: 'a' | 'w') => Promise<FileHandle>;
}

export interface SpoolCursor {
  segment: number;
  offset: number;
}

export interface SpoolBatch {
  /** Frames of line protocol: each one or more lines, joined by newlines. */
  records: string[];
  /** Lines in `records`. */
  lines: number;
  /** Where reading continues; pass to `commit` once the records are stored. */
  next: SpoolCursor;
}

/** Called once an append is on disk, or with the error that kept it from being written. */
export type AppendCallback = (error?: Error) => void;

const HEADER_BYTES = 8;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT = 'checkpoint.json';
/** Shortest time between two checkpoint writes (ms). */
const CHECKPOINT_INTERVAL_MS = 1_000;
/**
 * Largest frame: a group of appends is cut into frames no larger than these. Frames of at most 64 KiB keep the strings
 * the drain reads them into among V8's young objects, which die cheaply, rather than in large-object space.
 */
const FRAME_MAX_LINES = 5_000;
const FRAME_MAX_CHARS = 64 * 1024;
const NEWLINE = 0x0a;
const segmentName = (n: number): string => `segment-${String(n).padStart(6, '0')}.log`;

export class Spool {
  private writeHandle: FileHandle | undefined;
  private writeSegment: number;
  private writeOffset: number;
  private pending: string[] = [];
  private pendingLines: number[] = [];
  private pendingCallbacks: AppendCallback[] = [];
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private readCursor: SpoolCursor;
  private committed: SpoolCursor;
  private linesAppended = 0;
  private linesCommitted = 0;
  private readonly listeners = new Set<() => void>();
  private closed = false;
  /** Size of each segment on disk (bytes). */
  private readonly sizes = new Map<number, number>();
  /** Characters appended but not yet written (bytes, for ASCII line protocol). */
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
    this.linesAppended = state.depth;
  }

  /** Opens (or creates) the spool, recovering from a crash: the torn tail is cut, the depth recounted. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const full = { segmentBytes: DEFAULT_SEGMENT_BYTES, openFile: open, ...options };
    mkdirSync(full.dir, { recursive: true });
    const segments = listSegments(full.dir);
    let committed: SpoolCursor = readCheckpoint(full.dir) ?? { segment: segments[0] ?? 1, offset: 0 };
    for (const n of segments) if (n < committed.segment) unlinkSync(join(full.dir, segmentName(n)));
    if (!segments.includes(committed.segment))
      committed = { segment: segments.find((n) => n > committed.segment) ?? committed.segment, offset: 0 };
    let depth = 0;
    let last = { segment: committed.segment, offset: 0 };
    for (const n of listSegments(full.dir)) {
      const { lines, validBytes, size } = scanSegment(
        join(full.dir, segmentName(n)),
        n === committed.segment ? committed.offset : 0,
      );
      depth += lines;
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
    spool.writeHandle = await full.openFile(join(full.dir, segmentName(last.segment)), 'a');
    return spool;
  }

  /** Lines appended but not yet committed as stored. */
  get depth(): number {
    return this.linesAppended - this.linesCommitted;
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

  /**
   * Appends a record (one or more lines of line protocol); `done` is called once it is on disk (fdatasync), or with
   * the error that kept it from being written. A callback, not a promise: this is the path of every message.
   */
  append(record: string, done: AppendCallback): void {
    if (this.closed) return done(new Error('spool is closed'));
    this.pending.push(record);
    this.pendingLines.push(countLines(record));
    this.pendingCallbacks.push(done);
    this.pendingBytes += record.length + 1;
    if (!this.flushScheduled && !this.flushing) {
      // The messages of this turn of the event loop join the group before it is written.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (!this.flushing) this.flushing = this.flushLoop();
      });
    }
  }

  /** Reads the next frames after the last read position (not yet committed), up to the limits. */
  read({ maxLines, maxBytes }: { maxLines: number; maxBytes: number }): SpoolBatch | undefined {
    const records: string[] = [];
    let lines = 0;
    let bytes = 0;
    let cursor = { ...this.readCursor };
    // A chunk of the cursor's segment read ahead, starting at offset `chunkAt`.
    let chunk: Buffer = Buffer.alloc(0);
    let chunkAt = 0;
    for (;;) {
      const end =
        cursor.segment === this.writeSegment ? this.writeOffset : (this.sizes.get(cursor.segment) ?? 0);
      if (cursor.offset >= end) {
        if (cursor.segment >= this.writeSegment) break;
        cursor = { segment: cursor.segment + 1, offset: 0 };
        chunk = Buffer.alloc(0);
        continue;
      }
      let pos = cursor.offset - chunkAt;
      if (pos < 0 || pos + HEADER_BYTES > chunk.length) {
        chunk = this.readAt(
          cursor.segment,
          cursor.offset,
          Math.min(end - cursor.offset, maxBytes - bytes + HEADER_BYTES),
        );
        chunkAt = cursor.offset;
        pos = 0;
      }
      const length = chunk.readUInt32LE(pos);
      const frame =
        pos + HEADER_BYTES + length <= chunk.length
          ? chunk.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + length)
          : this.readAt(cursor.segment, cursor.offset + HEADER_BYTES, length); // beyond the chunk: read it alone
      const frameLines = countLines(frame);
      // Whole frames only; the first one is taken whatever its size.
      if (records.length > 0 && (lines + frameLines > maxLines || bytes + length > maxBytes)) break;
      records.push(frame.toString('utf8'));
      lines += frameLines;
      bytes += length;
      cursor = { segment: cursor.segment, offset: cursor.offset + HEADER_BYTES + length };
      if (lines >= maxLines || bytes >= maxBytes) break;
    }
    if (records.length === 0) return undefined;
    this.readCursor = cursor;
    return { records, lines, next: cursor };
  }

  /**
   * Marks everything before `cursor` as stored. The checkpoint is persisted in the background, at most once per
   * CHECKPOINT_INTERVAL_MS, and drained segments are deleted once a checkpoint past them is on disk.
   */
  commit(cursor: SpoolCursor, lines: number): void {
    this.committed = { ...cursor };
    this.linesCommitted += lines;
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
    while (this.flushScheduled || this.flushing) {
      if (this.flushing) await this.flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
    this.wakeCheckpoint?.();
    while (this.checkpointing) await this.checkpointing;
    await this.writeHandle?.close();
    this.writeHandle = undefined;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const records = this.pending;
        const lines = this.pendingLines;
        const callbacks = this.pendingCallbacks;
        this.pending = [];
        this.pendingLines = [];
        this.pendingCallbacks = [];
        this.pendingBytes = 0;
        let error: Error | undefined;
        try {
          const data = frames(records, lines);
          let length = 0;
          for (const part of data) length += part.length;
          if (this.writeOffset > 0 && this.writeOffset + length > this.options.segmentBytes)
            await this.rotate();
          const { bytesWritten } = await this.writeHandle!.writev(data);
          if (bytesWritten !== length)
            throw new Error(`spool write incomplete: ${bytesWritten} of ${length} bytes`);
          await this.writeHandle!.datasync();
          this.writeOffset += length;
          this.sizes.set(this.writeSegment, this.writeOffset);
          for (const n of lines) this.linesAppended += n;
        } catch (caught) {
          error = caught as Error;
          // Whatever part of the group reached the file is cut, so that the next group follows the last good frame.
          await this.writeHandle?.truncate(this.writeOffset).catch(() => undefined);
        }
        for (const done of callbacks) done(error);
        if (!error) for (const listener of this.listeners) listener();
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
          const handle = await this.options.openFile(tmp, 'w');
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
    this.writeHandle = await this.options.openFile(
      join(this.options.dir, segmentName(this.writeSegment)),
      'a',
    );
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

/** The records joined by newlines into frames of at most FRAME_MAX_LINES lines and FRAME_MAX_CHARS characters. */
function frames(records: string[], lines: number[]): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < records.length;) {
    let end = start;
    let frameLines = 0;
    let chars = 0;
    do {
      frameLines += lines[end]!;
      chars += records[end]!.length + 1;
      end++;
    } while (
      end < records.length &&
      frameLines + lines[end]! <= FRAME_MAX_LINES &&
      chars + records[end]!.length <= FRAME_MAX_CHARS
    );
    const bytes = Buffer.from(
      end - start === 1 ? records[start]! : records.slice(start, end).join('\n'),
      'utf8',
    );
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(bytes.length, 0);
    header.writeUInt32LE(crc32(bytes), 4);
    parts.push(header, bytes);
    start = end;
  }
  return parts;
}

/** Lines in a record or a frame: one more than its newlines. */
function countLines(frame: Buffer | string): number {
  let n = 1;
  const find = (from: number): number =>
    typeof frame === 'string' ? frame.indexOf('\n', from) : frame.indexOf(NEWLINE, from);
  for (let i = find(0); i !== -1; i = find(i + 1)) n++;
  return n;
}

/** Counts the lines of the valid frames of a segment from `from`, and where the valid part ends. */
function scanSegment(file: string, from: number): { lines: number; validBytes: number; size: number } {
  const data = readFileSync(file);
  let pos = from;
  let lines = 0;
  while (pos + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(pos);
    const end = pos + HEADER_BYTES + length;
    const frame = data.subarray(pos + HEADER_BYTES, end);
    if (end > data.length || crc32(frame) !== data.readUInt32LE(pos + 4)) break;
    pos = end;
    lines += countLines(frame);
  }
  return { lines, validBytes: Math.max(pos, from), size: data.length };
}
