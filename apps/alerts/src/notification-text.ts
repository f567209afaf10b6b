import { translator, type Language } from '@peakwatch/contracts';
import type { DrAnnouncement } from '@peakwatch/state';
import type { AlertNotification, IncidentNotification } from './notification';

/** An e-mail's subject and plain text. */
export interface MailText {
  subject: string;
  text: string;
}

/**
 * An alert notification as an e-mail in its language (its `language`): each line a whole sentence of the language
 * with the notification's values in it (libs/contracts messages.ts).
 */
export function alertMail(n: AlertNotification): MailText {
  const t = translator(n.language);
  const state = t(`alert.state.${n.state}`);
  const threshold = n.threshold;
  const lines = [
    n.rule.title,
    t('alert.stateLine', {
      state,
      episode: n.episode,
      severity: t(`alert.severity.${n.severity}`),
      at: n.at,
    }),
    t('alert.entityLine', {
      type: t(`alert.entityType.${n.entity.type}`),
      id: n.entity.id,
      name: n.entity.name,
      site: n.entity.siteId,
      district: n.entity.district,
    }),
    n.value === null
      ? t('alert.noValue', { threshold })
      : t(n.comparison === 'above' ? 'alert.valueAbove' : 'alert.valueBelow', { value: n.value, threshold }),
    ...(n.window ? [t('alert.windowLine', { period: n.window.period, start: n.window.start })] : []),
    ...(n.judgedFrom ? [t('alert.judgedFrom', { at: n.judgedFrom })] : []),
    n.policySource.clause
      ? t('alert.sourceClause', { document: n.policySource.document, clause: n.policySource.clause })
      : t('alert.source', { document: n.policySource.document }),
    ...(n.expectedCostCny !== undefined ? [t('alert.cost', { cny: n.expectedCostCny })] : []),
    '',
  ];
  return {
    subject: t('alert.subject', { state, title: n.rule.title, entity: n.entity.name }),
    text: lines.join('\n'),
  };
}

/** How many members an incident's e-mail lists (the attached JSON lists them all). */
export const MAIL_MEMBERS_LISTED = 20;

/**
 * An incident notification as an e-mail in its language: its title, for PeakWatch's own outage the sentence that the
 * sites are not at fault, when it opened (and resolved), and its members.
 */
export function incidentMail(n: IncidentNotification): MailText {
  const t = translator(n.language);
  const count = n.members.length;
  const lines = [
    n.incident.title,
    ...(n.incident.platform ? [t('incident.platform')] : []),
    n.state === 'opened'
      ? t('incident.opened', { at: n.openedAt, count })
      : t('incident.resolved', { opened: n.openedAt, at: n.resolvedAt ?? n.at, count }),
    '',
    ...n.members.slice(0, MAIL_MEMBERS_LISTED).map((m) =>
      t('incident.member', {
        title: m.rule.title,
        entity: m.entity.name,
        site: m.entity.siteId,
        firedAt: m.firedAt,
      }),
    ),
    ...(count > MAIL_MEMBERS_LISTED ? [t('incident.more', { count: count - MAIL_MEMBERS_LISTED })] : []),
    '',
  ];
  return {
    subject: t('incident.subject', { state: t(`incident.state.${n.state}`), title: n.incident.title }),
    text: lines.join('\n'),
  };
}

/** A demand-response announcement as an e-mail in `language` (the facility managers', ALERT_LANGUAGES). */
export function drMail(d: DrAnnouncement, language: Language): MailText {
  const t = translator(language);
  return {
    subject: t('dr.subject', { site: d.siteId, from: d.startsAt, to: d.endsAt }),
    text: [
      t('dr.asks', {
        site: d.siteId,
        district: d.district,
        from: d.startsAt,
        to: d.endsAt,
        kw: d.requestedKw,
        count: d.sites,
      }),
      t('dr.reason', { reason: d.reason }),
      t('dr.event', { id: d.id }),
      '',
    ].join('\n'),
  };
}
