/** InfluxDB line protocol, for values PeakWatch controls (tag values are registry ids and enums). */

/** Escapes a tag key or value: commas, equals signs and spaces. */
export function escapeTag(value: string): string {
  if (!TAG_SPECIAL.test(value)) return value; // the usual case (ids, enums): nothing to escape
  return value.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}
const TAG_SPECIAL = /[,= \\\n]/;

/** A string field value, double-quoted. */
export function stringField(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** One line: `measurement,tag=v field=1.5,n=2i 1763712000000` (timestamp in ms; tags are sorted by key). */
export function line(
  measurement: string,
  tags: Record<string, string | undefined>,
  fields: Record<string, string>,
  tsMs: number,
): string {
  const tagPart = Object.keys(tags)
    .filter((k) => tags[k] !== undefined && tags[k] !== '')
    .sort()
    .map((k) => `,${escapeTag(k)}=${escapeTag(tags[k]!)}`)
    .join('');
  const fieldPart = Object.entries(fields)
    .map(([k, v]) => `${escapeTag(k)}=${v}`)
    .join(',');
  return `${measurement}${tagPart} ${fieldPart} ${tsMs}`;
}

/** A float field: finite numbers as JavaScript prints them (InfluxDB accepts exponents). */
export function floatField(value: number): string {
  return String(value);
}

export function intField(value: number): string {
  return `${Math.trunc(value)}i`;
}
