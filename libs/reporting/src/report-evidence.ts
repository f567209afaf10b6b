import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import JSZip from 'jszip';
import { z } from 'zod';
import { CUMULATIVE_METRICS, type MetricName } from '@peakwatch/contracts';
import { factorSchema, thresholdSchema } from '@peakwatch/policy';
import { siteSchema } from '@peakwatch/registry';
import { declaredInputsSchema } from '@peakwatch/state';
import { carbonMarketSourceSchema } from './carbon-position';
import { computeReport, contentHash, type ReportSources } from './report';
import type { SiteMeterRows } from './report-meters';
import { EVIDENCE_LAYOUTS_CHECKED, type Report } from './report-schema';

/**
 * A report version's evidence bundle (docs/reports.md, "Evidence bundle"): a zip of everything its figures are computed
 * from, so that `peakwatch report verify` recomputes them without InfluxDB or the state store.
 *
 *   bundle.json                 layout, the PeakWatch version that made it, organisation, period, version, created
 *   report.json                 the report version
 *   SHA256SUMS                  `sha256sum` lines of every file below; its own SHA-256 is the report's evidence.sha256
 *   registry.json               the boundary's sites as in the registry (devices, intervals, CT ratios, replacements)
 *   policy.json                 the emission factors, coal equivalents and thresholds, with their sources and dates
 *   inputs.json                 what the organisation declared (green power, purchased heat, output)
 *   carbon-market.json          a monthly report's allowance and the earlier months' reports it counts (when declared)
 *   readings/<site>/<dev>.csv   the meter's register readings as stored, in the order they are booked
 *   events/<site>/<dev>.jsonl   its meter events (replacements, resets), one JSON object per line
 *   downsampled/<site>/<dev>.jsonl  its months down-sampled by the retention job, as stored, one per line (layout 2)
 *   quarters/<site>/<dev>.jsonl     the quarter snapshots of those months in the period, as stored (layout 2)
 */

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** A meter's readings as CSV: `time` (ISO 8601, UTC, ms), `batch` (an import's id, else empty), its metrics. */
function readingsCsv(rows: readonly Record<string, unknown>[]): string {
  const metrics = CUMULATIVE_METRICS.filter((m) => rows.some((r) => typeof r[m] === 'number'));
  const lines = rows.map((r) =>
    [
      new Date(r['time'] as number).toISOString(),
      typeof r['batch'] === 'string' ? r['batch'] : '',
      ...metrics.map((m) => (typeof r[m] === 'number' ? String(r[m]) : '')),
    ].join(','),
  );
  return `${[['time', 'batch', ...metrics].join(','), ...lines].join('\n')}\n`;
}

/** The evidence files of a report's sources by path, their SHA256SUMS, and its SHA-256 (the bundle's hash). */
export function evidenceFiles(sources: ReportSources): {
  files: Map<string, string>;
  sums: string;
  sha256: string;
} {
  const files = new Map<string, string>([
    ['registry.json', json(sources.sites)],
    ['policy.json', json({ factors: sources.factors, thresholds: sources.thresholds })],
    ['inputs.json', json(sources.inputs)],
  ]);
  if (sources.carbonMarket) files.set('carbon-market.json', json(sources.carbonMarket));
  for (const m of sources.meters) {
    files.set(`readings/${m.siteId}/${m.device.id}.csv`, readingsCsv(m.readings));
    for (const [dir, rows] of [
      ['events', m.events],
      ['downsampled', m.downsampled],
      ['quarters', m.quarters],
    ] as const)
      if (rows.length > 0)
        files.set(
          `${dir}/${m.siteId}/${m.device.id}.jsonl`,
          rows.map((e) => `${JSON.stringify(e)}\n`).join(''),
        );
  }
  const sums = [...files]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([path, content]) => `${sha256(content)}  ${path}\n`)
    .join('');
  return { files, sums, sha256: sha256(sums) };
}

/** What bundle.json says: who made the bundle, of which version. */
export interface BundleInfo {
  layout: string;
  peakwatchVersion: string;
  organisation: string;
  period: string;
  version: number;
  createdAt: string;
}

/** The zip of a report version and its evidence (its entries dated `createdAt`). */
export async function evidenceBundle(
  report: Report,
  evidence: ReturnType<typeof evidenceFiles>,
  info: BundleInfo,
): Promise<Buffer> {
  const zip = new JSZip();
  const date = new Date(info.createdAt);
  zip.file('bundle.json', json(info), { date });
  zip.file('report.json', json(report), { date });
  zip.file('SHA256SUMS', evidence.sums, { date });
  for (const [path, content] of evidence.files) zip.file(path, content, { date });
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 6 } });
}

/**
 * An entry's text, inflated as a stream that stops as soon as it passes `budget` bytes: an entry that inflates to
 * far more than its compressed size (a zip bomb) costs no more memory than the budget.
 */
function entryText(entry: JSZip.JSZipObject, budget: number, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stream = entry.nodeStream('nodebuffer') as NodeJS.ReadableStream & { destroy?: () => void };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > budget) {
        stream.removeAllListeners('data');
        stream.pause();
        reject(new Error(`its files unpack to more than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The files of a bundle by path; throws naming an archive that is not a zip or unpacks to more than `limit`. */
export async function bundleFiles(archive: Buffer, limit = MAX_BUNDLE_BYTES): Promise<Map<string, string>> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(archive);
  } catch (error) {
    throw new Error(`not a zip archive (${(error as Error).message})`);
  }
  const texts = new Map<string, string>();
  let unpacked = 0;
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    const text = await entryText(entry, limit - unpacked, limit);
    unpacked += Buffer.byteLength(text);
    texts.set(entry.name, text);
  }
  return texts;
}

/**
 * Why a version's figures differ from the previous version's, from their evidence (docs/reports.md, "Versions and
 * submission"): per meter, the readings added, removed and changed (their span, and the imports they came with); the
 * declarations, registry entries and factors that changed.
 */
export function evidenceChanges(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): string[] {
  const causes: string[] = [];
  const paths = [...new Set([...before.keys(), ...after.keys()])]
    .filter((p) => !['bundle.json', 'report.json', 'SHA256SUMS'].includes(p))
    .sort();
  for (const path of paths) {
    const a = before.get(path);
    const b = after.get(path);
    if (a === b) continue;
    if (path.startsWith('readings/')) causes.push(readingChanges(path, a ?? '', b ?? ''));
    else if (path === 'inputs.json') {
      const [x, y] = [JSON.parse(a ?? '{}'), JSON.parse(b ?? '{}')] as Record<string, unknown>[];
      const keys = [...new Set([...Object.keys(x!), ...Object.keys(y!)])].filter(
        (k) => JSON.stringify(x![k]) !== JSON.stringify(y![k]),
      );
      causes.push(`declared inputs: ${keys.sort().join(', ')} changed`);
    } else if (path.startsWith('events/')) causes.push(`meter events of ${meterOf(path)} changed`);
    else if (path.startsWith('downsampled/') || path.startsWith('quarters/'))
      causes.push(`down-sampled months of ${meterOf(path)} changed`);
    else if (path === 'registry.json') causes.push('registry entries of the boundary changed');
    else if (path === 'policy.json') causes.push('emission factors or thresholds changed');
    else if (path === 'carbon-market.json')
      causes.push('the allowance, or the earlier months it counts, changed');
  }
  return causes;
}

/** `<site>/<device>` of an evidence file's path. */
const meterOf = (path: string): string => path.replace(/^[a-z]+\/(.+)\.[a-z]+$/, '$1');

/** What changed among one meter's readings: added, removed, changed, over which span, from which imports. */
function readingChanges(path: string, before: string, after: string): string {
  // each time's lines (a live and an imported reading of the same time are two)
  const byTime = (csv: string): Map<string, string> => {
    const out = new Map<string, string>();
    for (const line of csv.trimEnd().split('\n').slice(1)) {
      if (!line) continue;
      const time = line.slice(0, line.indexOf(','));
      out.set(time, out.has(time) ? `${out.get(time)}\n${line}` : line);
    }
    return out;
  };
  const [a, b] = [byTime(before), byTime(after)];
  const added = [...b.keys()].filter((t) => !a.has(t));
  const removed = [...a.keys()].filter((t) => !b.has(t));
  const changed = [...b.keys()].filter((t) => a.has(t) && a.get(t) !== b.get(t));
  const touched = [...added, ...removed, ...changed].sort();
  // the imports among the readings added, changed (as they are now) or removed (as they were)
  const batches = [
    ...new Set(
      [...[...added, ...changed].map((t) => b.get(t)!), ...removed.map((t) => a.get(t)!)]
        .flatMap((lines) => lines.split('\n'))
        .map((line) => line.split(',')[1])
        .filter((batch): batch is string => Boolean(batch)),
    ),
  ].sort();
  const counts = [
    added.length > 0 ? `${added.length} added` : '',
    changed.length > 0 ? `${changed.length} changed` : '',
    removed.length > 0 ? `${removed.length} removed` : '',
  ].filter(Boolean);
  return (
    `readings of ${meterOf(path)}: ${counts.join(', ') || 'reordered'}` +
    (touched.length > 0 ? ` (${touched[0]} … ${touched.at(-1)})` : '') +
    (batches.length > 0 ? `, import batch ${batches.join(', ')}` : '')
  );
}

/** A figure of the report that recomputation does not reproduce. */
export interface FigureDifference {
  field: string;
  stated: unknown;
  recomputed: unknown;
}

/** What `report verify` found. */
export interface Verification {
  /** Every file is the one the report's evidence hash covers, and every figure recomputes to what the report states. */
  match: boolean;
  /** Whether this PeakWatch can check the bundle's layout at all. */
  checked: boolean;
  info?: Partial<BundleInfo>;
  report?: { organisation: string; period: string; contentHash: string; evidenceSha256: string };
  /** Files that are not what the bundle's hashes say, and inputs that cannot be read (file, line, field). */
  problems: string[];
  differences: FigureDifference[];
}

/** The largest bundle verify opens (bytes of the archive, and of all its files unpacked). */
const MAX_BUNDLE_BYTES = 2 * 1024 ** 3;

/**
 * Checks a report's evidence bundle with nothing but the bundle: each file against SHA256SUMS, SHA256SUMS against the
 * report's evidence hash, the report against its content hash, then every figure recomputed from the readings, the
 * registry, the factors and the declarations (the same computeReport that made it) and compared with what the report
 * states, field by field.
 */
export async function verifyBundle(archive: Buffer, ourVersion: string): Promise<Verification> {
  const result: Verification = { match: false, checked: false, problems: [], differences: [] };
  if (archive.length > MAX_BUNDLE_BYTES) {
    result.problems.push(`the archive is larger than ${MAX_BUNDLE_BYTES} bytes`);
    return result;
  }
  let texts: Map<string, string>;
  try {
    texts = await bundleFiles(archive);
  } catch (error) {
    result.problems.push((error as Error).message);
    return result;
  }
  const info = readJson(texts, 'bundle.json', result.problems) as Partial<BundleInfo> | undefined;
  if (info) result.info = info;
  if (typeof info?.layout !== 'string' || !EVIDENCE_LAYOUTS_CHECKED.includes(info.layout)) {
    result.problems.push(
      `layout ${JSON.stringify(info?.layout)} (made by PeakWatch ${info?.peakwatchVersion ?? 'unknown'}): PeakWatch ` +
        `${ourVersion} checks ${EVIDENCE_LAYOUTS_CHECKED.join(' and ')} only, so it cannot check this bundle`,
    );
    return result;
  }
  result.checked = true;
  const report = readJson(texts, 'report.json', result.problems) as Report | undefined;
  if (!report) return result;
  result.report = {
    organisation: String(report.organisation?.id),
    period: String(report.period?.label),
    contentHash: String(report.contentHash),
    evidenceSha256: String(report.evidence?.sha256),
  };

  // the files against SHA256SUMS, and SHA256SUMS against the hash the report states
  const sums = texts.get('SHA256SUMS');
  if (sums === undefined) result.problems.push('SHA256SUMS is missing');
  else {
    if (sha256(sums) !== report.evidence?.sha256)
      result.problems.push(
        "SHA256SUMS: its SHA-256 is not the report's evidence.sha256 (the list was changed)",
      );
    const listed = new Set<string>();
    for (const [i, line] of sums.split('\n').entries()) {
      if (line === '') continue;
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      if (!m) {
        result.problems.push(`SHA256SUMS line ${i + 1}: not "<sha256>  <path>"`);
        continue;
      }
      listed.add(m[2]!);
      const text = texts.get(m[2]!);
      if (text === undefined) result.problems.push(`${m[2]}: listed in SHA256SUMS but missing`);
      else if (sha256(text) !== m[1])
        result.problems.push(`${m[2]}: changed (its SHA-256 is not the one listed)`);
    }
    for (const path of texts.keys())
      if (!['bundle.json', 'report.json', 'SHA256SUMS'].includes(path) && !listed.has(path))
        result.problems.push(`${path}: not listed in SHA256SUMS`);
  }
  if (contentHash(report) !== report.contentHash)
    result.problems.push('report.json: changed (its content is not the one its contentHash states)');

  // every figure, recomputed from the evidence alone
  const sources = readSources(texts, result.problems);
  if (sources) {
    let recomputed: Report | undefined;
    try {
      recomputed = computeReport({
        sources,
        period: report.period.label,
        timeZone: report.period.timeZone,
        evidenceSha256: report.evidence.sha256,
      });
    } catch (error) {
      result.problems.push(`the figures cannot be recomputed: ${(error as Error).message}`);
    }
    if (recomputed) result.differences = compareReports(report, recomputed);
  }
  result.match = result.problems.length === 0 && result.differences.length === 0;
  return result;
}

function readJson(texts: ReadonlyMap<string, string>, path: string, problems: string[]): unknown {
  const text = texts.get(path);
  if (text === undefined) {
    problems.push(`${path} is missing`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    problems.push(`${path}: not JSON (${(error as Error).message})`);
    return undefined;
  }
}

/** Parses with `schema`, naming the file and the field of each problem; undefined when any. */
function parseFile<T>(
  texts: ReadonlyMap<string, string>,
  path: string,
  schema: z.ZodType<T>,
  problems: string[],
): T | undefined {
  const value = readJson(texts, path, problems);
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) problems.push(`${path} ${issue.path.join('.')}: ${issue.message}`);
  return undefined;
}

const storedValue = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const eventSchema = z.object({ time: z.number().int(), type: z.string().min(1) }).catchall(storedValue);
const downsampledSchema = z.object({ time: z.number().int(), to_ms: z.number().int() }).catchall(storedValue);
const quarterSchema = z.object({ time: z.number().int() }).catchall(storedValue);

/** The sources of a report read back from its bundle; undefined (problems named) when any file cannot be read. */
function readSources(texts: ReadonlyMap<string, string>, problems: string[]): ReportSources | undefined {
  const before = problems.length;
  const sites = parseFile(texts, 'registry.json', z.array(siteSchema).min(1), problems);
  const policy = parseFile(
    texts,
    'policy.json',
    z.object({ factors: z.array(factorSchema), thresholds: z.array(thresholdSchema) }).strict(),
    problems,
  );
  const inputs = parseFile(texts, 'inputs.json', declaredInputsSchema, problems);
  const meters: SiteMeterRows[] = [];
  for (const site of sites ?? [])
    for (const device of site.devices) {
      const readings = readingRows(texts, `readings/${site.id}/${device.id}.csv`, problems);
      const [events, downsampled, quarters] = (
        [
          ['events', eventSchema, 'a meter event (time and type)'],
          ['downsampled', downsampledSchema, 'a down-sampled month (time and to_ms)'],
          ['quarters', quarterSchema, 'a quarter snapshot (time)'],
        ] as const
      ).map(([dir, schema, what]) =>
        jsonLines(texts, `${dir}/${site.id}/${device.id}.jsonl`, schema, what, problems),
      );
      meters.push({
        siteId: site.id,
        device,
        readings,
        events: events!,
        downsampled: downsampled!,
        quarters: quarters!,
      });
    }
  const carbonMarket = texts.has('carbon-market.json')
    ? parseFile(texts, 'carbon-market.json', carbonMarketSourceSchema, problems)
    : undefined;
  if (problems.length > before || !sites || !policy || !inputs) return undefined;
  return {
    sites,
    meters,
    inputs,
    factors: policy.factors,
    thresholds: policy.thresholds,
    ...(carbonMarket ? { carbonMarket } : {}),
  };
}

/** A readings CSV back to rows (`time` in ms), naming the line and field of what is not a time or a number. */
function readingRows(
  texts: ReadonlyMap<string, string>,
  path: string,
  problems: string[],
): Record<string, unknown>[] {
  const text = texts.get(path);
  if (text === undefined) {
    problems.push(`${path} is missing`);
    return [];
  }
  let records: string[][];
  try {
    records = parse(text);
  } catch (error) {
    problems.push(`${path}: not CSV (${(error as Error).message})`);
    return [];
  }
  const [header = [], ...lines] = records;
  const unknown = header.slice(2).filter((c) => !CUMULATIVE_METRICS.includes(c as MetricName));
  if (header[0] !== 'time' || header[1] !== 'batch' || unknown.length > 0) {
    problems.push(`${path} line 1: expected time,batch and register metrics, got ${header.join(',')}`);
    return [];
  }
  const rows: Record<string, unknown>[] = [];
  for (const [i, cells] of lines.entries()) {
    const at = `${path} line ${i + 2}`;
    const time = Date.parse(cells[0]!);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(cells[0]!) || !Number.isFinite(time)) {
      problems.push(`${at}: time ${JSON.stringify(cells[0])} is not an ISO 8601 UTC time`);
      continue;
    }
    const row: Record<string, unknown> = { time };
    if (cells[1]) row['batch'] = cells[1];
    for (const [j, metric] of header.slice(2).entries()) {
      const cell = cells[j + 2]!;
      if (cell === '') continue;
      const value = Number(cell);
      if (!Number.isFinite(value)) problems.push(`${at}: ${metric} ${JSON.stringify(cell)} is not a number`);
      else row[metric] = value;
    }
    rows.push(row);
  }
  return rows;
}

/** A meter's stored rows kept as JSON lines (events, down-sampled months, quarters) back to rows; none if absent. */
function jsonLines(
  texts: ReadonlyMap<string, string>,
  path: string,
  schema: z.ZodType<Record<string, unknown>>,
  what: string,
  problems: string[],
): Record<string, unknown>[] {
  const text = texts.get(path);
  if (text === undefined) return [];
  const rows: Record<string, unknown>[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) rows.push(parsed.data);
    else problems.push(`${path} line ${i + 1}: not ${what}`);
  }
  return rows;
}

/** A report as `field → value` lines; the lines of a list keyed by what identifies an entry, not its position. */
function figureLines(report: Report): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const key = (path: string, item: Record<string, unknown>, i: number): string => {
    if (path === 'meters') return [item['siteId'], item['deviceId'], item['metric']].map(String).join('/');
    if (path === 'energy.carriers') return String(item['carrier']);
    if (path === 'factors') return String(item['id']);
    if (path === 'boundary') return String(item['siteId']);
    return String(i);
  };
  const walk = (path: string, value: unknown): void => {
    if (Array.isArray(value))
      value.forEach((item, i) =>
        walk(
          `${path}[${item && typeof item === 'object' ? key(path, item as Record<string, unknown>, i) : i}]`,
          item,
        ),
      );
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(path ? `${path}.${k}` : k, v);
    else out.set(path, value);
  };
  walk('', { ...report, contentHash: undefined });
  return out;
}

/** The figures of `stated` that `recomputed` does not reproduce (and those only one of them has). */
export function compareReports(stated: Report, recomputed: Report): FigureDifference[] {
  const a = figureLines(stated);
  const b = figureLines(recomputed);
  const fields = [...new Set([...a.keys(), ...b.keys()])];
  return fields
    .filter((f) => a.get(f) !== b.get(f))
    .map((field) => ({ field, stated: a.get(field), recomputed: b.get(field) }));
}
