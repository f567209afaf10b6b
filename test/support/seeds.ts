import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's seeds/ (registry, scenarios, policy data, alert rules). */
export const SEEDS = join(__dirname, '../../seeds');

/**
 * A temporary copy of seeds/ with edits, per file (a path under seeds/): each [from, to] is replaced once, and a
 * `from` the file does not hold throws, so that a test never runs on seeds it did not mean to change. The caller
 * removes the directory.
 */
export function copySeeds(edits: Record<string, [from: string | RegExp, to: string][]> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'peakwatch-seeds-'));
  cpSync(SEEDS, dir, { recursive: true });
  for (const [file, replacements] of Object.entries(edits)) {
    let text = readFileSync(join(dir, file), 'utf8');
    for (const [from, to] of replacements) {
      if (!(typeof from === 'string' ? text.includes(from) : from.test(text)))
        throw new Error(`seeds/${file} has no ${String(from)} to replace`);
      text = text.replace(from, to);
    }
    writeFileSync(join(dir, file), text);
  }
  return dir;
}
