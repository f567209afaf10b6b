import { Controller, NotFoundException, Param, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable, map } from 'rxjs';
import { LiveEvents } from '@peakwatch/runtime';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';

/** Server-sent events of one site: `reading` (as stored), `kpi` (windows recomputed), `alert`. Same scope as the site. */
@ApiTags('stream')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/sites')
export class StreamController {
  constructor(
    private readonly events: LiveEvents,
    private readonly access: Access,
  ) {}

  @Sse(':siteId/stream')
  @ApiOperation({ summary: 'Live events of a site (text/event-stream): readings, KPI updates, alerts' })
  stream(@Caller() caller: Principal, @Param('siteId') siteId: string): Observable<MessageEvent> {
    if (!this.access.site(caller, siteId)) throw new NotFoundException(`no site ${siteId}`);
    return this.events.ofSite(siteId).pipe(map((e) => ({ type: e.type, data: e.data as object })));
  }
}
