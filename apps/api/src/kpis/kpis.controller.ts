import { Controller, Get, HttpStatus, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { instantMs, readKpis } from '@peakwatch/metering';
import { ID_PATTERN, KPI_PERIODS, KPI_SCOPES } from '@peakwatch/contracts';
import { InfluxClient } from '@peakwatch/influx';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';

/** At most this much history per request (ms): a year of 15-minute windows is ~35,000 values per KPI. */
const MAX_RANGE_MS = 400 * 86_400_000;

/** The years a KPI may be asked for: 1970 to 2100. */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(2101, 0, 1);

/** A date (midnight in the reporting zone) or an RFC 3339 time with its offset (libs/metering instantMs). */
const time = (timeZone: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const ms = instantMs(s, timeZone);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: problem('expectedTime'),
          params: { timeZone },
        });
        return z.NEVER;
      }
      return ms;
    })
    // InfluxDB stores nanoseconds since 1970 in 64 bits (to 2262); PeakWatch's data lie well within these years
    .refine((ms) => ms >= EARLIEST_MS && ms < LATEST_MS, { message: problem('timeInYears') });

/** The query of GET /api/v1/kpis, its plain dates in the reporting zone `timeZone`. */
export const kpiQuery = (timeZone: string) =>
  z
    .object({
      scope: z.enum(KPI_SCOPES).default('site'),
      entity: z.string().regex(ID_PATTERN, problem('expectedEntity')),
      kpi: z
        .string()
        .regex(/^[a-z0-9_]{1,64}$/, problem('expectedKpi'))
        .optional(),
      period: z.enum(KPI_PERIODS),
      from: time(timeZone),
      to: time(timeZone),
    })
    .strict()
    .refine((q) => q.to > q.from, { message: problem('afterFrom'), path: ['to'] })
    .refine((q) => q.to - q.from <= MAX_RANGE_MS, {
      message: problem('rangeAtMost'),
      params: { days: MAX_RANGE_MS / 86_400_000 },
      path: ['to'],
    });

@ApiTags('kpis')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/kpis')
export class KpisController {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly influx: InfluxClient,
    private readonly access: Access,
  ) {}

  @Get()
  @ApiOperation({ summary: 'KPI values of an entity for a period and time range (the kpi series)' })
  @ApiQuery({ name: 'scope', enum: KPI_SCOPES, required: false })
  @ApiQuery({ name: 'entity', description: 'site, district or city id' })
  @ApiQuery({ name: 'kpi', required: false, description: 'e.g. pue, energy_kwh, renewable_share' })
  @ApiQuery({ name: 'period', enum: KPI_PERIODS })
  @ApiQuery({
    name: 'from',
    description:
      'inclusive: a date YYYY-MM-DD, which means midnight in the reporting zone (TZ_REPORTING, Asia/Shanghai by default), or an RFC 3339 time with its offset, taken as given',
  })
  @ApiQuery({ name: 'to', description: 'exclusive: as from' })
  async list(@Caller() caller: Principal, @Query() raw: unknown): Promise<unknown[]> {
    const q = parseInput(kpiQuery(this.config.tzReporting), raw);
    if (!this.access.entity(caller, q.scope, q.entity)) {
      // a site's existence does not leak; districts and the city are public names
      if (q.scope === 'site') throw new ApiTextException(HttpStatus.NOT_FOUND, 'noSite', { site: q.entity });
      throw new ApiTextException(HttpStatus.FORBIDDEN, 'outsideScope', {
        context: q.scope,
        entity: q.entity,
      });
    }
    const values = await readKpis(this.influx, {
      scope: q.scope,
      period: q.period,
      fromMs: q.from,
      toMs: q.to,
      entities: [q.entity],
    });
    return values
      .filter((k) => q.kpi === undefined || k.kpi === q.kpi)
      .map(({ entity: _entity, windowStartMs, ...k }) => ({
        windowStart: new Date(windowStartMs).toISOString(),
        ...k,
        // a renewable share with nothing renewable metered or declared is none, not 0 (docs/domain.md, "Green power")
        ...(k.undeclared ? { value: null } : {}),
        // a cost without a tariff says so (docs/domain.md, "Cost and peaks")
        ...(k.noTariff ? { value: null, note: 'no tariff declared' } : {}),
        ...(k.atMs === undefined ? {} : { at: new Date(k.atMs).toISOString() }),
      }));
  }
}
