import { Controller, HttpStatus, Param, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable, filter, from, interval, map, merge, mergeMap, startWith, takeUntil } from 'rxjs';
import { LiveEvents, type LiveEvent } from '@peakwatch/runtime';
import { AlertVisibility } from '../alerts/alert-visibility';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller } from '../auth/api-key.guard';
import { ApiKeysRepository, type Principal } from '../auth/api-keys.repository';
import { ApiTextException } from '../translated.error';

/** How often an open stream checks that its key is still valid (a revocation by another process). */
export const STREAM_KEY_CHECK_MS = 5_000;

/**
 * Server-sent events of one site: `ready` (at once, when the stream opens), `reading` (as stored), `kpi` (windows
 * recomputed), `alert` (those the caller may see through the REST API). Same scope as the site; the stream ends when its key is revoked (docs/security.md).
 */
@ApiTags('stream')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/sites')
export class StreamController {
  constructor(
    private readonly events: LiveEvents,
    private readonly access: Access,
    private readonly alerts: AlertVisibility,
    private readonly keys: ApiKeysRepository,
  ) {}

  @Sse(':siteId/stream')
  @ApiOperation({ summary: 'Live events of a site (text/event-stream): readings, KPI updates, alerts' })
  stream(@Caller() caller: Principal, @Param('siteId') siteId: string): Observable<MessageEvent> {
    if (!this.access.site(caller, siteId))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noSite', { site: siteId });
    const revoked = merge(
      this.keys.revocations.pipe(filter((id) => id === caller.keyId)),
      interval(STREAM_KEY_CHECK_MS).pipe(
        mergeMap(() => from(this.keys.isActive(caller.keyId))),
        filter((active) => !active),
      ),
    );
    return this.events.ofSite(siteId).pipe(
      filter((e) => e.type !== 'alert' || this.alerts.visible(caller, alertRule(e))),
      // an incident is seen by whom its members are (a regulator: none, they are data-quality alerts)
      filter((e) => e.type !== 'incident' || memberRules(e).some((id) => this.alerts.visible(caller, id))),
      map((e) => ({ type: e.type, data: e.data as object })),
      // at once: the stream is open, before the site's next reading (its meters may read every 5 minutes)
      startWith({ type: 'ready', data: { siteId, at: new Date().toISOString() } }),
      takeUntil(revoked),
    );
  }
}

function alertRule(event: LiveEvent): string {
  return (event.data as { rule?: { id?: string } }).rule?.id ?? '';
}

function memberRules(event: LiveEvent): string[] {
  return ((event.data as { members?: { rule: { id: string } }[] }).members ?? []).map((m) => m.rule.id);
}
