import { z } from 'zod';
import { QUARTERS_PER_DAY, type TariffVersion, type TouDivision } from '@peakwatch/domain';
import { DataFileError, type FileProblem, type Registry } from '@peakwatch/registry';

/**
 * Time-of-use tariffs as data (seeds/tariffs): divisions of the day into bands and each tariff's prices, versioned by
 * `validFrom` (docs/domain.md, "Cost and peaks").
 */
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, - and _');
const date = z.iso.date('must be a date YYYY-MM-DD');
/** A time of the day on a quarter hour, HH:MM; 24:00 ends the day. */
const time = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):(?:00|15|30|45)$|^24:00$/, 'must be a time HH:MM on a quarter hour (to 24:00)');
const provenance = {
  source: z.string().trim().min(1, 'a source is required'),
  clause: z.string().optional(),
  url: z.url().optional(),
  verified: z.boolean(),
};
const price = z.number().nonnegative().max(100);

const divisionSchema = z
  .object({
    id,
    validFrom: date,
    ...provenance,
    bands: z
      .array(z.object({ from: time, to: time, band: z.enum(['peak', 'flat', 'valley']) }).strict())
      .min(1),
    critical: z
      .array(
        z.object({ months: z.array(z.number().int().min(1).max(12)).min(1), from: time, to: time }).strict(),
      )
      .default([]),
  })
  .strict();

const tariffSchema = z
  .object({
    id,
    name: z.string().min(1),
    /** 单一制 (energy charge only) or 两部制 (energy and capacity or demand charge; PeakWatch prices the energy). */
    customerClass: z.enum(['single_part', 'two_part']),
    voltage: z.enum(['below_1kv', '1_10kv', '20kv', '35kv', '110kv', '220kv_and_above']),
    versions: z
      .array(
        z
          .object({
            validFrom: date,
            ...provenance,
            prices: z
              .object({ critical: price.optional(), peak: price, flat: price, valley: price })
              .strict(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export const tariffFileSchema = z
  .object({ divisions: z.array(divisionSchema).default([]), tariffs: z.array(tariffSchema).default([]) })
  .strict();
export type TariffFile = z.infer<typeof tariffFileSchema>;
export type Tariff = z.infer<typeof tariffSchema>;

const quarterOf = (t: string): number => Number(t.slice(0, 2)) * 4 + Number(t.slice(3)) / 15;
const timeOf = (q: number): string =>
  `${String(Math.floor(q / 4)).padStart(2, '0')}:${String((q % 4) * 15).padStart(2, '0')}`;

/** Runs of consecutive quarters, as `HH:MM–HH:MM` spans. */
function spans(quarters: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < quarters.length;) {
    let j = i;
    while (j + 1 < quarters.length && quarters[j + 1] === quarters[j]! + 1) j++;
    out.push(`${timeOf(quarters[i]!)}–${timeOf(quarters[j]! + 1)}`);
    i = j + 1;
  }
  return out;
}

/** The loaded tariffs: the divisions of the day (by date) and each tariff's price versions. */
export class Tariffs {
  constructor(
    readonly divisions: readonly TouDivision[] = [],
    private readonly byId: ReadonlyMap<string, Tariff> = new Map(),
  ) {}

  tariff(tariffId: string): Tariff | undefined {
    return this.byId.get(tariffId);
  }

  /** A tariff's price versions (none for an unknown id). */
  versions(tariffId: string): readonly TariffVersion[] {
    return this.byId.get(tariffId)?.versions ?? [];
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }
}

/**
 * The tariffs of `files` (each with its shown name), checked: every quarter hour of a division has exactly one band
 * (naming the hours without one or with two), ids and version dates are unique.
 * Problems go to `problems`.
 */
export function tariffsOf(
  files: readonly { file: string; value: TariffFile }[],
  problems: FileProblem[],
): Tariffs {
  const divisions: TouDivision[] = [];
  const byId = new Map<string, Tariff>();
  const seenDivisions = new Map<string, string>();
  for (const { file, value } of files) {
    value.divisions.forEach((d, i) => {
      const at = (path: string, problem: string): number =>
        problems.push({ file, path: `divisions[${i}]${path}`, problem });
      const quarters: (TouDivision['quarters'][number] | undefined)[] = Array.from(
        { length: QUARTERS_PER_DAY },
        () => undefined,
      );
      const twice: number[] = [];
      d.bands.forEach((b, j) => {
        const [from, to] = [quarterOf(b.from), quarterOf(b.to)];
        if (to <= from) at(`.bands[${j}]`, `ends (${b.to}) before it starts (${b.from})`);
        for (let q = from; q < to; q++) {
          if (quarters[q] !== undefined) twice.push(q);
          quarters[q] = b.band;
        }
      });
      const missing = quarters.flatMap((b, q) => (b === undefined ? [q] : []));
      if (missing.length > 0) at('.bands', `no band for ${spans(missing).join(', ')}`);
      if (twice.length > 0)
        at('.bands', `two bands for ${spans([...new Set(twice)].sort((a, b) => a - b)).join(', ')}`);
      const critical = d.critical.map((c, j) => {
        const [from, to] = [quarterOf(c.from), quarterOf(c.to)];
        if (to <= from) at(`.critical[${j}]`, `ends (${c.to}) before it starts (${c.from})`);
        const span = Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
        return { months: c.months, quarters: span };
      });
      const earlier = seenDivisions.get(d.validFrom);
      if (earlier) at('.validFrom', `${d.validFrom} is also the start of division ${earlier}`);
      seenDivisions.set(d.validFrom, d.id);
      if (missing.length === 0)
        divisions.push({ validFrom: d.validFrom, quarters: quarters as TouDivision['quarters'], critical });
    });
    value.tariffs.forEach((t, i) => {
      if (byId.has(t.id))
        problems.push({ file, path: `tariffs[${i}].id`, problem: `tariff id "${t.id}" used twice` });
      const dates = t.versions.map((v) => v.validFrom);
      dates.forEach((d, j) => {
        if (dates.indexOf(d) !== j)
          problems.push({
            file,
            path: `tariffs[${i}].versions[${j}].validFrom`,
            problem: `${d} is used by two versions`,
          });
      });
      byId.set(t.id, t);
    });
  }
  return new Tariffs(divisions, byId);
}

/**
 * Every site's declared tariff exists in seeds/tariffs; throws {@link DataFileError} naming each site and tariff that
 * does not (a misspelt id would otherwise read as no tariff at all).
 */
export function checkSiteTariffs(registry: Registry, tariffs: Tariffs): void {
  const problems: FileProblem[] = registry.sites
    .filter((site) => site.tariff !== undefined && !tariffs.tariff(site.tariff))
    .map((site) => ({
      file: `site ${site.id}`,
      path: 'tariff',
      problem: `unknown tariff "${site.tariff}" (seeds/tariffs has ${tariffs.ids.join(', ') || 'none'})`,
    }));
  if (problems.length > 0) throw new DataFileError(problems);
}
