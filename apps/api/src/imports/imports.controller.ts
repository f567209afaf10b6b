import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import {
  HistoryImports,
  MAX_REASON_LENGTH,
  UnknownImportError,
  rejectionsCsv,
  type ImportPlan,
} from '@peakwatch/history';
import type { ImportBatch } from '@peakwatch/state';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';
import { by } from '../auth/audit';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';

/** The file kinds an upload may be, by its Content-Type. */
const KINDS: Readonly<Record<string, 'csv' | 'xlsx'>> = {
  'text/csv': 'csv',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
};

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const query = z
  .object({
    reason: z.string().trim().min(1, problem('importReason')).max(MAX_REASON_LENGTH),
    fileName: z
      .string()
      .regex(/^[\w .()-]{1,200}$/, 'letters, digits, spaces and . _ - ( ) only')
      .optional(),
    tz: z.string().max(40).optional(),
    replace: flag.optional(),
    apply: flag.optional(),
    partial: flag.optional(),
  })
  .strict();
const batchParam = z.object({
  id: z.string().regex(/^imp-\d{8}-[0-9a-f]{8}$/, problem('expectedBatchId')),
});

/**
 * History imports (docs/imports.md): an admin, a facility manager for its sites, an emitter for its organisation's
 * sites upload a CSV or XLSX file as the request body; the answer is the dry run, and with `apply=true` the batch
 * written. Rows of sites outside the key's scope are refused like any bad row.
 */
@ApiTags('imports')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Roles('admin', 'facility_manager', 'emitter')
@Controller('api/v1/imports')
export class ImportsController {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly imports: HistoryImports,
    private readonly access: Access,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Import readings of the past: body a CSV (text/csv) or XLSX file; the dry run unless apply=true (then 201 with the batch id)',
  })
  async create(
    @Caller() caller: Principal,
    @Query() raw: Record<string, string>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ plan: ImportPlan; batchId?: string; restated?: unknown[] }> {
    const q = parseInput(query, raw);
    const kind = KINDS[(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()];
    if (!kind)
      throw new ApiTextException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'importType', {
        types: { or: Object.keys(KINDS) },
      });
    const dir = join(this.config.dataDir, 'imports');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `upload-${randomUUID()}.${kind}`);
    try {
      await this.receive(req, path);
      const planned = await this.imports.plan({
        path,
        fileName: q.fileName ?? `upload.${kind}`,
        kind,
        ...(q.tz !== undefined ? { zone: q.tz } : {}),
        replace: q.replace === true,
        allowedSites: new Set(this.access.sites(caller)),
      });
      if (!q.apply) return { plan: planned.plan };
      const { batchId, restated } = await this.imports.apply(planned, {
        ...by(caller),
        reason: q.reason,
        partial: q.partial === true,
      });
      res.status(201);
      return { plan: planned.plan, batchId, restated };
    } finally {
      await rm(path, { force: true });
    }
  }

  @Get()
  @ApiOperation({ summary: 'The import batches of the sites in scope, newest first' })
  async list(@Caller() caller: Principal): Promise<ImportBatch[]> {
    return (await this.imports.list()).filter((b) => this.inScope(caller, b)).map(withoutSummary);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One import batch: its provenance and the dry run it was applied from' })
  async get(@Caller() caller: Principal, @Param() raw: Record<string, string>): Promise<ImportBatch> {
    return this.batch(caller, parseInput(batchParam, raw).id);
  }

  @Get(':id/rejections')
  @ApiOperation({ summary: "A batch's refused rows as CSV (row, field, reason, detail)" })
  async rejections(
    @Caller() caller: Principal,
    @Param() raw: Record<string, string>,
    @Res() res: Response,
  ): Promise<void> {
    const { id, actor } = await this.batch(caller, parseInput(batchParam, raw).id);
    // the refused rows quote the file, which may hold rows of sites outside another key's scope: its uploader's
    if (caller.role !== 'admin' && actor !== caller.keyId)
      throw new ApiTextException(HttpStatus.FORBIDDEN, 'rejectionsOfOthers', { batch: id });
    res
      .status(200)
      .type('text/csv; charset=utf-8')
      .setHeader('content-disposition', `attachment; filename="${id}-rejections.csv"`)
      .send(rejectionsCsv(await this.imports.rejections(id)));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @ApiOperation({ summary: "Remove a batch's readings, restore what it replaced, restate its reports" })
  async rollback(
    @Caller() caller: Principal,
    @Param() raw: Record<string, string>,
  ): Promise<{ batch: ImportBatch; restated: unknown[] }> {
    const { id } = await this.batch(caller, parseInput(batchParam, raw).id);
    const { batch, restated } = await this.imports.rollback(id, by(caller));
    return { batch: withoutSummary(batch), restated };
  }

  /** A batch the caller may see (every site it touched in scope): 404 otherwise, so that its existence does not leak. */
  private async batch(caller: Principal, id: string): Promise<ImportBatch> {
    const batch = await this.imports.get(id);
    if (!batch || !this.inScope(caller, batch))
      throw new UnknownImportError(`no import batch ${id}`, { field: 'id' });
    return batch;
  }

  private inScope(caller: Principal, batch: ImportBatch): boolean {
    const sites = this.access.sites(caller);
    return (batch.summary as ImportPlan).devices.every((d) => sites.includes(d.siteId));
  }

  /** The request body to `path`, refused past IMPORT_MAX_MB (413) with nothing kept. */
  private async receive(req: Request, path: string): Promise<void> {
    const limit = this.config.imports.maxBytes;
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > limit)
          done(
            new ApiTextException(HttpStatus.PAYLOAD_TOO_LARGE, 'importTooLarge', { mib: limit / 1_048_576 }),
          );
        else done(null, chunk);
      },
    });
    await pipeline(req, counter, createWriteStream(path, { mode: 0o600 }));
  }
}

/** A batch as listed: its provenance without the dry run. */
function withoutSummary(batch: ImportBatch): ImportBatch {
  const { devices } = batch.summary as ImportPlan;
  return { ...batch, summary: { devices } };
}
