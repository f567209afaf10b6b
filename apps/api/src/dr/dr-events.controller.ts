import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { ID_PATTERN } from '@peakwatch/contracts';
import { InfluxClient } from '@peakwatch/influx';
import { PolicyData } from '@peakwatch/policy';
import { readKpis, utcOffsetMs, windowsOf } from '@peakwatch/metering';
import { Registry } from '@peakwatch/registry';
import { Clock, LiveEvents } from '@peakwatch/runtime';
import { AuditLog, DrEvents, StateStore, drEventRequestSchema, type DrEvent } from '@peakwatch/state';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { by } from '../auth/audit';
import { badField, parseInput, problem, type ProblemKey } from '../validation';
import { ApiTextException } from '../translated.error';

const capabilityQuery = z
  .object({
    district: z.string().regex(ID_PATTERN, problem('idChars')),
    year: z.coerce.number().int().min(2000).max(2100),
  })
  .strict();

/**
 * The text of a refusal of DrEvents (libs/state) in the other languages, by the field it names; its English sentence
 * is the library's own.
 */
function refusalText(field: string): ProblemKey {
  if (field === 'startsAt') return 'startsInPast';
  if (field === 'district') return 'noSiteInDistrict';
  if (field === 'sites') return 'oneDistrict';
  if (field.startsWith('sites.')) return 'notYourSite';
  return 'refused';
}

/**
 * Demand-response events (docs/domain.md, "Demand response"): a regulator (its district's sites) or an admin creates
 * one, every affected site's facility managers are told at once, and the KPI job measures the response once it ends.
 * A regulator sees its district's events with every site's result; a facility manager or an emitter sees the events
 * of its sites with its own sites' results only.
 */
@ApiTags('demand response')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/dr-events')
export class DrEventsController {
  private readonly events: DrEvents;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly access: Access,
    private readonly audit: AuditLog,
    private readonly influx: InfluxClient,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
    private readonly policy: PolicyData,
    state: StateStore,
  ) {
    this.events = new DrEvents(state);
  }

  @Post()
  @HttpCode(201)
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'Create a demand-response event; its sites are told at once' })
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<DrEvent> {
    const input = parseInput(drEventRequestSchema, body, 'body');
    const submitted = await this.events.submit(input, {
      requester: {
        actor: caller.keyId,
        role: caller.role,
        sites: new Set(this.access.sites(caller)),
        namespace: `key:${caller.keyId}`,
      },
      registry: this.registry,
      receivers: this.config.alerts,
      nowMs: this.clock.now(),
    });
    if ('refusal' in submitted) {
      const { status, field, problem: english, overlaps } = submitted.refusal;
      if (status === 400) badField(field, { english, key: refusalText(field) });
      throw new ApiTextException(
        HttpStatus.CONFLICT,
        'overlaps',
        { events: (overlaps ?? []).join(', ') },
        { field, overlaps },
      );
    }
    const { event, announcements, created } = submitted;
    if (!created) return event; // the same request again
    for (const a of announcements) this.live.emit({ type: 'dr_event', siteId: a.siteId, data: a });
    await this.audit.record({
      ...by(caller),
      action: 'dr_event.create',
      target: event.id,
      detail: {
        district: event.district,
        sites: event.siteIds,
        startsAt: event.startsAt,
        endsAt: event.endsAt,
        requestedKw: event.requestedKw,
      },
    });
    return event;
  }

  @Get()
  @ApiOperation({ summary: 'The demand-response events of your sites or district, latest first' })
  async list(@Caller() caller: Principal): Promise<DrEvent[]> {
    const seen = new Set(this.access.sites(caller));
    return (await this.events.list())
      .map((e) => this.visible(caller, e, seen))
      .filter((e) => e !== undefined);
  }

  @Get('capability')
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: "A district's peak-shaving capability in a year against the plan's 3–5 % target" })
  async capability(@Caller() caller: Principal, @Query() query: unknown): Promise<object> {
    const { district, year } = parseInput(capabilityQuery, query);
    if (!this.access.entity(caller, 'district', district))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noDistrict', { district });
    const offset = utcOffsetMs(this.config.tzReporting, Date.UTC(year, 6, 1));
    const [window] = windowsOf('1y', Date.UTC(year, 6, 1), Date.UTC(year, 6, 1) + 1, offset);
    const events = (
      await this.events.list({
        fromIso: new Date(window!.startMs).toISOString(),
        toIso: new Date(window!.endMs).toISOString(),
      })
    ).filter((e) => e.district === district && e.result);
    // written by the KPI job (docs/domain.md, "Demand response"): the largest reduction of one event of the year
    // over the district's maximum load of the year
    const [capability] = await readKpis(this.influx, {
      scope: 'district',
      period: '1y',
      kpi: 'peak_shaving_share',
      entities: [district],
      fromMs: window!.startMs,
      toMs: window!.startMs + 1,
    });
    const best = events.find((e) => e.result!.total.reducedKw === capability?.numerator);
    const share = capability?.value ?? null;
    // the plan's target, 3-5 % of the maximum load by 2025 (seeds/policy)
    const target = {
      from: this.policy.threshold('beijing-peak-shaving-2025-min')!.value,
      to: this.policy.threshold('beijing-peak-shaving-2025-max')!.value,
    };
    return {
      district,
      year,
      events: events.length,
      reducedKw: capability?.numerator ?? null,
      ...(best ? { event: best.id } : {}),
      maxLoadKw: capability && capability.denominator > 0 ? capability.denominator : null,
      ...(capability?.atMs !== undefined ? { maxLoadAt: new Date(capability.atMs).toISOString() } : {}),
      share,
      target,
      meetsTarget: share === null ? null : share >= target.from,
    };
  }

  @Get(':eventId')
  @ApiOperation({ summary: 'One demand-response event, with its measured response once it is over' })
  async get(@Caller() caller: Principal, @Param('eventId') eventId: string): Promise<DrEvent> {
    const event = /^dr-[0-9a-f-]{36}$/.test(eventId) ? await this.events.get(eventId) : undefined;
    const shown = event && this.visible(caller, event, new Set(this.access.sites(caller)));
    if (!shown) throw new ApiTextException(HttpStatus.NOT_FOUND, 'noEvent', { event: eventId.slice(0, 64) });
    return shown;
  }

  /**
   * The event as the caller may see it: whole for an admin and the district's regulator; for the others (facility
   * managers, emitters) only when it asks some of their sites, with their own sites and results alone.
   */
  private visible(caller: Principal, event: DrEvent, sites: ReadonlySet<string>): DrEvent | undefined {
    if (caller.role === 'admin' || (caller.role === 'regulator' && caller.scope.includes(event.district)))
      return event;
    const own = event.siteIds.filter((s) => sites.has(s));
    if (own.length === 0) return undefined;
    const { result, actor: _actor, ...rest } = event;
    return {
      ...rest,
      actor: '',
      siteIds: own,
      ...(result
        ? { result: { sites: result.sites.filter((s) => sites.has(s.siteId)), total: result.total } }
        : {}),
    };
  }
}
