import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import ExcelJS from 'exceljs';
import { ImportFileError, type Cell } from './import-rows';

/** A row of an import file: its number (the header is row 1) and its cells by column name (lower case). */
export interface SourceRow {
  row: number;
  cells: Record<string, Cell>;
  /** It has more cells than the header has columns (a broken row: an unquoted separator). */
  extraCells: boolean;
}

/** The longest CSV record read (characters): a longer one is a broken file, not a row. */
const MAX_RECORD_BYTES = 64 * 1024;

/** The file kinds an import reads, by the file's extension. */
export type ImportFileKind = 'csv' | 'xlsx';

export function fileKindOf(fileName: string): ImportFileKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.xlsx')) return 'xlsx';
  throw new ImportFileError(`${fileName.slice(-80)}: an import is a .csv or an .xlsx file`, 'file');
}

/**
 * The rows of a CSV or XLSX file, streamed (a file of a million rows is never held at once): the first row is the
 * header, `onHeader` judges it. XLSX: the first worksheet, through ExcelJS's streaming reader.
 */
export async function* sourceRows(
  path: string,
  kind: ImportFileKind,
  onHeader: (header: string[]) => void,
): AsyncGenerator<SourceRow> {
  let header: string[] | undefined;
  const toRow = (row: number, values: Cell[]): SourceRow | undefined => {
    if (!header) {
      header = values.map((v) =>
        String(v ?? '')
          .trim()
          .toLowerCase(),
      );
      onHeader(header);
      return undefined;
    }
    if (values.every((v) => v === undefined || String(v).trim() === '')) return undefined;
    const cells: Record<string, Cell> = {};
    header.forEach((name, i) => (cells[name] = values[i]));
    const extraCells = values.slice(header.length).some((v) => String(v ?? '').trim() !== '');
    return { row, cells, extraCells };
  };
  if (kind === 'csv') {
    const parser = createReadStream(path).pipe(
      parse({
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        max_record_size: MAX_RECORD_BYTES,
      }),
    );
    let row = 0;
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        // the row is the line the record ends on (blank lines skipped, a quoted line break counted)
        row = info.lines;
        const out = toRow(row, record);
        if (out) yield out;
      }
    } catch (error) {
      if (error instanceof ImportFileError) throw error;
      throw new ImportFileError(
        `row ${row + 1}: the CSV cannot be read: ${(error as Error).message}`,
        'file',
      );
    }
    if (!header) throw new ImportFileError('the file is empty: expected a header row', 'header');
    return;
  }
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    entries: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
  });
  let last = 0;
  try {
    for await (const sheet of reader) {
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        last = row.number;
        // row.values is 1-based: [empty, A, B, ...]
        const values = (row.values as unknown[]).slice(1).map(cellValue);
        const out = toRow(row.number, values);
        if (out) yield out;
      }
      break; // the first worksheet only
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(
      `the XLSX workbook cannot be read after row ${last} (truncated, or not an XLSX file): ` +
        (error as Error).message.slice(0, 200),
      'file',
    );
  }
  if (!header) throw new ImportFileError('the workbook has no header row', 'header');
}

/** What ExcelJS gives for a cell, as text, a number or a date (a formula: its result; rich text: its text). */
function cellValue(value: unknown): Cell {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || value instanceof Date) return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'object') {
    const v = value as { result?: unknown; richText?: { text: string }[]; text?: unknown; error?: string };
    if ('result' in v) return cellValue(v.result);
    if (v.richText) return v.richText.map((r) => r.text).join('');
    if (typeof v.text === 'string') return v.text;
    if (v.error) return v.error;
    return undefined; // a cell kind with no value an import reads (a shared formula's master, an image)
  }
  return typeof value === 'bigint' ? value.toString() : undefined;
}
