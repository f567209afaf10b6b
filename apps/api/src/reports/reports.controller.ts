import { basename } from 'node:path';
import { ID_PATTERN } from '@peakwatch/contracts';
import {
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Body,
  Param,
  Post,
  Put,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { Registry } from '@peakwatch/registry';
import {
  REPORT_FORMATS,
  ReportService,
  type CarbonMarketPosition,
  type ReportVersion,
} from '@peakwatch/reporting';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import {
  AuditLog,
  allowanceSchema,
  declaredInputsSchema,
  type Allowance,
  type DeclaredInputs,
} from '@peakwatch/state';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';
import { by } from '../auth/audit';

const id = z.string().regex(ID_PATTERN, problem('expectedId'));
const params = z
  .object({
    org: id,
    period: z.string().regex(/^\d{4}(-(0[1-9]|1[0-2]))?$/, problem('expectedPeriod')),
    version: z.coerce.number().int().positive().optional(),
    format: z.enum(REPORT_FORMATS).optional(),
  })
  .strict();
/** A compliance year of an organisation. */
const yearParams = z.object({ org: id, year: z.string().regex(/^\d{4}$/, problem('expectedYear')) }).strict();

const CONTENT_TYPES = {
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
  evidence: 'application/zip',
} as const;

/**
 * Emitters' reports: the emitter sees its organisation's, a regulator those of organisations with sites in its
 * district, an admin all. Every version stays downloadable in every format.
 */
@ApiTags('reports')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Roles('admin', 'emitter', 'regulator')
@Controller('api/v1/reports')
export class ReportsController {
  constructor(
    private readonly reports: ReportService,
    private readonly registry: Registry,
    private readonly audit: AuditLog,
  ) {}

  @Get(':org')
  @ApiOperation({ summary: "An organisation's reports, every version, with their submission receipts" })
  async list(@Caller() caller: Principal, @Param('org') org: string): Promise<ReportVersion[]> {
    this.check(caller, parseInput(params.pick({ org: true }), { org }).org);
    return this.reports.versions(org);
  }

  @Get(':org/:period/:version/:format')
  @ApiOperation({
    summary:
      'Download one version of a report as json, csv or pdf, or its evidence bundle (a zip that `peakwatch report verify` recomputes the report from)',
  })
  download(@Caller() caller: Principal, @Param() raw: Record<string, string>, @Res() res: Response): void {
    const p = parseInput(params.required(), raw);
    this.check(caller, p.org);
    const file = this.reports.file(p.org, p.period, p.version, p.format);
    if (!file)
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noReportVersion', {
        version: String(p.version),
        period: p.period,
        org: p.org,
      });
    res
      .status(200)
      .type(CONTENT_TYPES[p.format])
      .setHeader(
        'content-disposition',
        `attachment; filename="${p.org}-${p.period}-${basename(this.reports.path(p.org, p.period, p.version, p.format))}"`,
      )
      .send(file);
  }

  @Put(':org/:period/inputs')
  @HttpCode(200)
  @Roles('admin', 'emitter')
  @ApiOperation({
    summary:
      'Declare what the meters do not show for a period: green power bought (certificates, contracts, with evidence), purchased heat, output',
  })
  async putInputs(
    @Caller() caller: Principal,
    @Param() raw: Record<string, string>,
    @Body() body: unknown,
  ): Promise<DeclaredInputs> {
    const p = parseInput(params.pick({ org: true, period: true }), raw);
    this.check(caller, p.org);
    const inputs = parseInput(declaredInputsSchema, body, 'body');
    // a refused declaration: 400 or 409 naming the entry (PeakWatchErrorFilter)
    await this.reports.setInputs(p.org, p.period, inputs);
    await this.audit.record({
      ...by(caller),
      action: 'report.inputs',
      target: `${p.org}/${p.period}`,
      detail: { ...inputs },
    });
    return inputs;
  }

  @Put(':org/:year/allowance')
  @HttpCode(200)
  @Roles('admin', 'emitter')
  @ApiOperation({
    summary:
      'Declare the carbon-market allowance (配额) of a compliance year, with a carbon price and a shortfall to be warned at; a year declared again gets a new version',
  })
  async putAllowance(
    @Caller() caller: Principal,
    @Param() raw: Record<string, string>,
    @Body() body: unknown,
  ): Promise<Allowance> {
    const p = parseInput(yearParams, raw);
    this.check(caller, p.org);
    const declaration = parseInput(allowanceSchema, body, 'body');
    const allowance = await this.reports.declareAllowance(p.org, p.year, declaration, by(caller).actor);
    await this.audit.record({
      ...by(caller),
      action: 'report.allowance',
      target: `${p.org}/${p.year}`,
      detail: { ...declaration, version: allowance.version },
    });
    return allowance;
  }

  @Get(':org/:year/position')
  @ApiOperation({
    summary:
      "The organisation's carbon-market position in a compliance year: emissions of the months filed, the projection to the year's end (its method), the surplus or shortfall against the allowance in t CO2 and CNY",
  })
  position(@Caller() caller: Principal, @Param() raw: Record<string, string>): Promise<CarbonMarketPosition> {
    const p = parseInput(yearParams, raw);
    this.check(caller, p.org);
    return this.reports.position(p.org, Number(p.year));
  }

  @Post(':org/:period/regenerate')
  @HttpCode(200)
  @Roles('admin', 'emitter')
  @ApiOperation({ summary: 'Generate a report now (a new version only when its content changed)' })
  async regenerate(
    @Caller() caller: Principal,
    @Param() raw: Record<string, string>,
  ): Promise<{ version: ReportVersion; created: boolean }> {
    const p = parseInput(params.pick({ org: true, period: true }), raw);
    this.check(caller, p.org);
    const { version, created } = await this.reports.generate(p.org, p.period);
    return { version, created };
  }

  /** An unknown organisation is 404; one outside the caller's scope 403. */
  private check(caller: Principal, org: string): void {
    const sites = this.registry.sites.filter((s) => s.emitter?.id === org);
    if (sites.length === 0) throw new ApiTextException(HttpStatus.NOT_FOUND, 'noOrganisation', { org });
    const allowed =
      caller.role === 'admin' ||
      (caller.role === 'emitter' && caller.scope.includes(org)) ||
      (caller.role === 'regulator' && sites.some((s) => caller.scope.includes(s.district)));
    if (!allowed) throw new ApiTextException(HttpStatus.FORBIDDEN, 'reportsOutsideScope', { org });
  }
}
