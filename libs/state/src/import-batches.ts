import type { Selectable } from 'kysely';
import type { StateSchema } from './state.schema';
import type { StateStore } from './state-store';

/** A refused row of an import: its number in the file (the header is row 1), the field at fault, why. */
export interface ImportRejection {
  row: number;
  field: string;
  reason: string;
  detail: string;
}

/** An import batch's provenance and state (docs/imports.md). */
export interface ImportBatch {
  id: string;
  fileName: string;
  fileSha256: string;
  actor: string;
  role: string;
  reason: string;
  createdAt: string;
  state: 'applying' | 'applied' | 'rolled_back';
  rowsAccepted: number;
  rowsRejected: number;
  rowsReplaced: number;
  /** The dry run it was applied from. */
  summary: unknown;
  rolledBackAt?: string;
}

/** Rows written per statement (SQLite's and PostgreSQL's parameter limits, 7 columns at most). */
const ROWS_PER_INSERT = 500;

/** Import batches in the state store: their provenance, refused rows and the points they replaced. */
export class ImportBatches {
  constructor(private readonly state: StateStore) {}

  /** Records a batch being applied, with its refused rows (a confirmed partial import) and the points it replaces. */
  async begin(
    batch: Omit<ImportBatch, 'state' | 'rolledBackAt'>,
    rejections: readonly ImportRejection[],
    replaced: readonly { deviceId: string; tsMs: number; line: string }[],
  ): Promise<void> {
    await this.state.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('import_batch')
        .values({
          id: batch.id,
          file_name: batch.fileName,
          file_sha256: batch.fileSha256,
          actor: batch.actor,
          role: batch.role,
          reason: batch.reason,
          created_at: batch.createdAt,
          state: 'applying',
          rows_accepted: batch.rowsAccepted,
          rows_rejected: batch.rowsRejected,
          rows_replaced: batch.rowsReplaced,
          summary: JSON.stringify(batch.summary),
          rolled_back_at: null,
        })
        .execute();
      for (const chunk of chunks(rejections))
        await tx
          .insertInto('import_rejection')
          .values(
            chunk.map((r) => ({
              batch_id: batch.id,
              row_number: r.row,
              field: r.field,
              reason: r.reason,
              detail: r.detail,
            })),
          )
          .execute();
      for (const chunk of chunks(replaced))
        await tx
          .insertInto('import_replaced')
          .values(
            chunk.map((r) => ({ batch_id: batch.id, device_id: r.deviceId, ts_ms: r.tsMs, line: r.line })),
          )
          .execute();
    });
  }

  async setState(id: string, state: ImportBatch['state'], at: string): Promise<void> {
    await this.state.db
      .updateTable('import_batch')
      .set({ state, ...(state === 'rolled_back' ? { rolled_back_at: at } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async get(id: string): Promise<ImportBatch | undefined> {
    const row = await this.state.db
      .selectFrom('import_batch')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && batchOf(row);
  }

  /** Every batch, newest first. */
  async list(): Promise<ImportBatch[]> {
    const rows = await this.state.db
      .selectFrom('import_batch')
      .selectAll()
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(batchOf);
  }

  async rejections(id: string): Promise<ImportRejection[]> {
    const rows = await this.state.db
      .selectFrom('import_rejection')
      .selectAll()
      .where('batch_id', '=', id)
      .orderBy('row_number')
      .orderBy('field')
      .execute();
    return rows.map((r) => ({
      row: Number(r.row_number),
      field: r.field,
      reason: r.reason,
      detail: r.detail,
    }));
  }

  /** The batches not rolled back that replaced some of this batch's points (which they hold, to write back). */
  async replacedBy(id: string): Promise<string[]> {
    const rows = await this.state.db
      .selectFrom('import_replaced')
      .innerJoin('import_batch', 'import_batch.id', 'import_replaced.batch_id')
      .select('import_replaced.batch_id')
      .distinct()
      .where('import_replaced.line', 'like', `%,batch=${id},%`)
      .where('import_batch.state', '!=', 'rolled_back')
      .execute();
    return rows.map((r) => r.batch_id).filter((b) => b !== id);
  }

  /** The lines of the points the batch replaced, to write back. */
  async replaced(id: string): Promise<string[]> {
    const rows = await this.state.db
      .selectFrom('import_replaced')
      .select('line')
      .where('batch_id', '=', id)
      .orderBy('device_id')
      .orderBy('ts_ms')
      .execute();
    return rows.map((r) => r.line);
  }
}

/** A stored batch row as the repository gives it. */
function batchOf(row: Selectable<StateSchema['import_batch']>): ImportBatch {
  return {
    id: row.id,
    fileName: row.file_name,
    fileSha256: row.file_sha256,
    actor: row.actor,
    role: row.role,
    reason: row.reason,
    createdAt: row.created_at,
    state: row.state as ImportBatch['state'],
    rowsAccepted: Number(row.rows_accepted),
    rowsRejected: Number(row.rows_rejected),
    rowsReplaced: Number(row.rows_replaced),
    summary: JSON.parse(row.summary) as unknown,
    ...(row.rolled_back_at ? { rolledBackAt: row.rolled_back_at } : {}),
  };
}

/** Rows in slices of ROWS_PER_INSERT, one statement each. */
function* chunks<T>(rows: readonly T[]): Generator<readonly T[]> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) yield rows.slice(i, i + ROWS_PER_INSERT);
}
