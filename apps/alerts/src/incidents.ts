import type { AlertRule } from '@peakwatch/policy';
import type { Reading } from './alert-reader';
import { compare } from './evaluation';

/**
 * The pure part of incidents (docs/incidents.md): which causes a data-quality alert could share, whether PeakWatch's
 * own outage explains it, and which held alerts become an incident, join one, or are told alone. No I/O: the incident
 * desk (incident-desk.ts) reads and persists what this decides.
 */

export type IncidentKind = 'platform' | 'segment' | 'gateway' | 'site';
/** What of PeakWatch can be out (platform_outage.component). */
export type PlatformComponent = 'broker' | 'influxdb' | 'ingest';

/** A cause as a key: `platform:broker`, `segment:<id>`, `gateway:<id>`, `site:<id>`. */
export type CauseKey = `${IncidentKind}:${string}`;

export function causeKey(kind: IncidentKind, id: string): CauseKey {
  return `${kind}:${id}`;
}

export function parseCause(key: string): { kind: IncidentKind; id: string } {
  const at = key.indexOf(':');
  return { kind: key.slice(0, at) as IncidentKind, id: key.slice(at + 1) };
}

/** An outage of PeakWatch as recorded (endMs none while it lasts). */
export interface Outage {
  component: PlatformComponent;
  startMs: number;
  endMs: number | null;
}

/** How long the outages overlap [fromMs, toMs), counted once where they overlap each other (ms). */
function overlapMs(outages: readonly Outage[], fromMs: number, toMs: number): number {
  const spans = outages
    .map((o) => [Math.max(fromMs, o.startMs), Math.min(toMs, o.endMs ?? toMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = fromMs;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/**
 * Whether PeakWatch's own outage explains a data-quality alert (docs/incidents.md, "Platform outages"): its value
 * with the outage's share given back would not breach the rule. A device silent for s minutes of which the outage
 * covers o: s − o against the threshold; a window whose completeness c misses readings over a share o of its judged
 * span: c + o. The component named is the one that covers most of it. None for any other alert.
 */
export function platformCause(
  rule: Pick<AlertRule, 'comparison' | 'thresholdValue' | 'clearMargin' | 'signal'>,
  reading: Pick<Reading, 'value' | 'window' | 'judgedFromMs'>,
  outages: readonly Outage[],
  nowMs: number,
): PlatformComponent | undefined {
  if (reading.value === null || outages.length === 0) return undefined;
  let fromMs: number;
  let toMs = nowMs;
  let given: (overlap: number) => number;
  if ('silence' in rule.signal) {
    fromMs = nowMs - reading.value * 60_000;
    given = (overlap) => reading.value! - overlap / 60_000;
  } else if ('completeness' in rule.signal && reading.window) {
    // a completeness: the share of the judged span the outage covers
    fromMs = reading.judgedFromMs ?? reading.window.startMs;
    toMs = Math.min(reading.window.endMs, nowMs);
    const spanMs = toMs - fromMs;
    if (spanMs <= 0) return undefined;
    given = (overlap) => reading.value! + overlap / spanMs;
  } else return undefined;
  const overlap = overlapMs(outages, fromMs, toMs);
  if (overlap === 0 || compare(rule, given(overlap)).breached) return undefined;
  const components = [...new Set(outages.map((o) => o.component))];
  const covered = (c: PlatformComponent): number =>
    overlapMs(
      outages.filter((o) => o.component === c),
      fromMs,
      toMs,
    );
  return components.sort((a, b) => covered(b) - covered(a))[0];
}

/**
 * The causes a data-quality alert could share, broadest first: PeakWatch's outage when it explains the alert, the
 * site's network segment and the device's gateway when the registry declares them, and the site.
 */
export function causesOf(
  site: { id: string; segment?: string | undefined },
  gateway: string | undefined,
  platform: PlatformComponent | undefined,
): CauseKey[] {
  return [
    ...(platform ? [causeKey('platform', platform)] : []),
    ...(site.segment ? [causeKey('segment', site.segment)] : []),
    ...(gateway ? [causeKey('gateway', gateway)] : []),
    causeKey('site', site.id),
  ];
}

/** A data-quality alert held (alert_hold): its key (rule, entity, episode), site, when it was held and its causes. */
export interface Held {
  key: string;
  siteId: string;
  heldAtMs: number;
  causes: readonly CauseKey[];
}

/** What becomes of the held alerts at one evaluation. */
export interface Decision {
  /** Held alerts that join an open incident (by its cause), told no more. */
  join: { key: string; cause: CauseKey }[];
  /** Incidents to open, each with its members. */
  open: { cause: CauseKey; members: string[] }[];
  /** Held alerts told alone (their own notifications, as they were). */
  release: string[];
}

/**
 * Decides the held data-quality alerts (docs/incidents.md, "Grouping"):
 * 1. one PeakWatch's outage explains joins the platform's open incident, or opens it at once, whatever their number;
 * 2. another whose cause has an open incident joins it;
 * 3. once the oldest has waited `waitMs`: a declared segment with at least `minAlerts` alerts from two sites or more,
 *    then a gateway, then a site with at least `minAlerts` opens an incident of them (the younger ones with them);
 * 4. one that has waited `waitMs` and shares no such cause is told alone; the younger ones wait on.
 */
export function decide(
  held: readonly Held[],
  openCauses: ReadonlySet<string>,
  nowMs: number,
  { minAlerts, waitMs }: { minAlerts: number; waitMs: number },
): Decision {
  const decision: Decision = { join: [], open: [], release: [] };
  let rest: Held[] = [];
  for (const h of held) {
    // the platform's cause before any other: its incident says the sites are not at fault
    const platform = h.causes.find((c) => c.startsWith('platform:'));
    const open = platform
      ? openCauses.has(platform)
        ? platform
        : undefined
      : h.causes.find((c) => openCauses.has(c));
    if (open) decision.join.push({ key: h.key, cause: open });
    else rest.push(h);
  }
  const openWith = (cause: CauseKey, members: readonly Held[]): void => {
    decision.open.push({ cause, members: members.map((m) => m.key) });
    const taken = new Set(members);
    rest = rest.filter((h) => !taken.has(h));
  };
  for (const cause of new Set(rest.flatMap((h) => h.causes.filter((c) => c.startsWith('platform:')))))
    openWith(
      cause,
      rest.filter((h) => h.causes.includes(cause)),
    );
  if (!rest.some((h) => nowMs - h.heldAtMs >= waitMs)) return decision;
  for (const kind of ['segment', 'gateway', 'site'] as const) {
    const counts = new Map<CauseKey, Held[]>();
    for (const h of rest)
      for (const c of h.causes.filter((c) => c.startsWith(`${kind}:`)))
        counts.set(c, [...(counts.get(c) ?? []), h]);
    for (const [cause, members] of [...counts].sort((a, b) => b[1].length - a[1].length)) {
      const still = members.filter((m) => rest.includes(m));
      if (still.length < minAlerts) continue;
      if (kind === 'segment' && new Set(still.map((m) => m.siteId)).size < 2) continue;
      openWith(cause, still);
    }
  }
  decision.release = rest.filter((h) => nowMs - h.heldAtMs >= waitMs).map((h) => h.key);
  return decision;
}
