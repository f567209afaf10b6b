import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ID_PATTERN, LANGUAGES, incidentTitle } from '@peakwatch/contracts';
import { StateStore } from '@peakwatch/state';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { parseInput, problem } from '../validation';
import { AlertVisibility } from './alert-visibility';

const listQuery = z
  .object({
    state: z.enum(['open', 'resolved']).optional(),
    site: z.string().regex(ID_PATTERN, problem('expectedSiteId')).optional(),
  })
  .strict();

/**
 * Incidents (docs/incidents.md): alerts of one cause grouped, with their members. A caller sees an incident through
 * its members: those at the sites in their scope whose alerts they may see (a regulator: none, incidents are made of
 * data-quality alerts), and the incidents with at least one.
 */
@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/incidents')
export class IncidentsController {
  constructor(
    private readonly state: StateStore,
    private readonly access: Access,
    private readonly alerts: AlertVisibility,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Incidents touching the sites in scope, newest first, with their member alerts' })
  async list(@Caller() caller: Principal, @Query() raw: unknown): Promise<unknown[]> {
    const q = parseInput(listQuery, raw);
    const sites = this.access.sites(caller).filter((s) => !q.site || s === q.site);
    if (sites.length === 0) return [];
    const members = (
      await this.state.db.selectFrom('incident_member').selectAll().where('site_id', 'in', sites).execute()
    ).filter((m) => this.alerts.visible(caller, m.rule_id));
    if (members.length === 0) return [];
    let query = this.state.db
      .selectFrom('incident')
      .selectAll()
      .where('id', 'in', [...new Set(members.map((m) => m.incident_id))]);
    if (q.state) query = query.where('resolved_at', q.state === 'open' ? 'is' : 'is not', null);
    const incidents = await query.orderBy('opened_at', 'desc').execute();
    return incidents.map((i) => ({
      id: i.id,
      kind: i.kind,
      cause: i.cause,
      title: Object.fromEntries(LANGUAGES.map((l) => [l, incidentTitle(l, i.kind, i.cause)])),
      platform: i.kind === 'platform',
      state: i.resolved_at ? 'resolved' : 'open',
      openedAt: i.opened_at,
      resolvedAt: i.resolved_at,
      members: members
        .filter((m) => m.incident_id === i.id)
        .sort((a, b) => a.fired_at.localeCompare(b.fired_at) || a.entity.localeCompare(b.entity))
        .map((m) => ({
          rule: m.rule_id,
          entity: m.entity,
          site: m.site_id,
          episode: m.episode,
          firedAt: m.fired_at,
          resolvedAt: m.resolved_at,
        })),
    }));
  }
}
