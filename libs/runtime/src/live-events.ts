import { Injectable } from '@nestjs/common';
import { Observable, Subject, filter } from 'rxjs';

/**
 * Something that happened at a site, for live streams: a reading stored, KPIs recomputed, an alert, an incident
 * (docs/incidents.md), a demand-response event announced or measured.
 */
export interface LiveEvent {
  type: 'reading' | 'kpi' | 'alert' | 'incident' | 'dr_event';
  siteId: string;
  data: unknown;
}

/**
 * The process's bus of live events: ingest, analytics and alerts emit, the API's server-sent event streams listen.
 * In-process only, so a stream sees the events of the apps running in the same process (the all-in-one process,
 * or an API replica beside an ingest replica).
 */
@Injectable()
export class LiveEvents {
  private readonly subject = new Subject<LiveEvent>();
  private readonly listeners = new Map<string, number>();

  emit(event: LiveEvent): void {
    if (this.listening(event.siteId)) this.subject.next(event);
  }

  /** Whether a stream listens to the site: producers skip building events nobody reads. */
  listening(siteId: string): boolean {
    return (this.listeners.get(siteId) ?? 0) > 0;
  }

  /** The events of one site, from now on. */
  ofSite(siteId: string): Observable<LiveEvent> {
    return new Observable<LiveEvent>((subscriber) => {
      this.listeners.set(siteId, (this.listeners.get(siteId) ?? 0) + 1);
      const subscription = this.subject.pipe(filter((e) => e.siteId === siteId)).subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        this.listeners.set(siteId, (this.listeners.get(siteId) ?? 1) - 1);
      };
    });
  }
}
