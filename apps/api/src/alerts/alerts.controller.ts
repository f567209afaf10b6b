import { ID_PATTERN } from '@peakwatch/contracts';
import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { recordAlertHistory } from '@peakwatch/state';
import { Clock } from '@peakwatch/runtime';
import { AuditLog, StateStore } from '@peakwatch/state';
import { Access } from '../auth/access';
import { AlertVisibility } from './alert-visibility';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';
import { by } from '../auth/audit';

const listQuery = z
  .object({
    state: z.enum(['pending', 'firing', 'resolved', 'inactive']).optional(),
    site: z.string().regex(ID_PATTERN, problem('expectedSiteId')).optional(),
  })
  .strict();

/**
 * Alerts of the sites in the caller's scope. Regulators see only the alerts meant for them (policy alerts past the
 * data-quality gate), never the data-quality and device alerts of a site's facility manager.
 */
@ApiTags('alerts')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(
    private readonly state: StateStore,
    private readonly access: Access,
    private readonly alerts: AlertVisibility,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Current alert states (by default every state but inactive)' })
  async list(@Caller() caller: Principal, @Query() raw: unknown): Promise<unknown[]> {
    const q = parseInput(listQuery, raw);
    const sites = this.access.sites(caller).filter((s) => !q.site || s === q.site);
    if (sites.length === 0) return [];
    let query = this.state.db.selectFrom('alert_state').selectAll().where('site_id', 'in', sites);
    query = q.state ? query.where('state', '=', q.state) : query.where('state', '!=', 'inactive');
    const rows = await query.orderBy('since', 'desc').execute();
    return rows
      .filter((r) => this.visible(caller, r.rule_id))
      .map((r) => ({
        rule: r.rule_id,
        entity: r.entity,
        site: r.site_id,
        state: r.state,
        since: r.since,
        episode: r.episode,
        value: r.value,
        acknowledged: r.acked_at ? { at: r.acked_at, by: r.acked_by } : null,
        escalatedAt: r.escalated_at,
      }));
  }

  @Get('history')
  @ApiOperation({ summary: 'The append-only history (audit trail) of the alerts of a site' })
  async history(@Caller() caller: Principal, @Query() raw: unknown): Promise<unknown[]> {
    const q = parseInput(listQuery.pick({ site: true }).required(), raw);
    if (!this.access.site(caller, q.site))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noSite', { site: q.site });
    const rows = await this.state.db
      .selectFrom('alert_history')
      .selectAll()
      .where('site_id', '=', q.site)
      .orderBy('at')
      .execute();
    return rows
      .filter((r) => this.visible(caller, r.rule_id))
      .map((r) => ({ ...r, detail: JSON.parse(r.detail) as unknown }));
  }

  @Post(':ruleId/:entity/ack')
  @HttpCode(200)
  @Roles('admin', 'facility_manager', 'regulator')
  @ApiOperation({ summary: 'Acknowledge a firing alert (stops its escalation)' })
  async ack(
    @Caller() caller: Principal,
    @Param('ruleId') ruleId: string,
    @Param('entity') entity: string,
  ): Promise<{ acknowledged: true }> {
    const row = await this.state.db
      .selectFrom('alert_state')
      .selectAll()
      .where('rule_id', '=', ruleId)
      .where('entity', '=', entity)
      .executeTakeFirst();
    if (
      !row ||
      !this.access.site(caller, row.site_id) ||
      !this.visible(caller, ruleId) ||
      row.state !== 'firing'
    )
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noFiringAlert', { rule: ruleId, entity });
    const at = this.clock.iso();
    await this.state.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('alert_state')
        .set({ acked_at: at, acked_by: caller.keyId })
        .where('rule_id', '=', ruleId)
        .where('entity', '=', entity)
        .execute();
      await recordAlertHistory(tx, {
        ruleId,
        entity,
        siteId: row.site_id,
        at,
        event: 'acknowledged',
        episode: row.episode,
        detail: { by: caller.keyId, role: caller.role },
      });
    });
    await this.audit.record({ ...by(caller), action: 'alert.ack', target: `${ruleId}/${entity}` }, at);
    return { acknowledged: true };
  }

  private visible(caller: Principal, ruleId: string): boolean {
    return this.alerts.visible(caller, ruleId);
  }
}
