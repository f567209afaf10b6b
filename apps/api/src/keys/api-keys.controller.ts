import { ID_PATTERN } from '@peakwatch/contracts';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditLog } from '@peakwatch/state';
import { API_ROLES, ApiKeysRepository, type ApiKeyInfo, type Principal } from '../auth/api-keys.repository';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import { by } from '../auth/audit';
import { parseInput, problem } from '../validation';
import { ApiTextException } from '../translated.error';

const id = z.string().regex(ID_PATTERN, problem('expectedId'));

export const createKeyBody = z
  .object({
    name: z.string().min(1).max(128),
    role: z.enum(API_ROLES),
    /** Site ids of a facility manager, the organisation of an emitter, the district of a regulator. */
    scope: z.array(id).max(1000).default([]),
  })
  .strict()
  .refine((b) => (b.role === 'admin' ? b.scope.length === 0 : b.scope.length > 0), {
    message: problem('adminScope'),
    path: ['scope'],
  })
  .refine((b) => b.role === 'facility_manager' || b.scope.length <= 1, {
    message: problem('oneScope'),
    path: ['scope'],
  });

/** API keys, managed by admins (or with `peakwatch apikey`). */
@ApiTags('api keys')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Roles('admin')
@Controller('api/v1/apikeys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditLog,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an API key (returned once)' })
  async create(@Caller() caller: Principal, @Body() body: unknown): Promise<{ id: string; key: string }> {
    const input = parseInput(createKeyBody, body, 'body');
    const created = await this.keys.create(input);
    await this.audit.record({
      ...by(caller),
      action: 'apikey.create',
      target: created.id,
      detail: { name: input.name, role: input.role, scope: input.scope },
    });
    return created;
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (never their secrets)' })
  list(): Promise<ApiKeyInfo[]> {
    return this.keys.list();
  }

  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key, at once' })
  async revoke(@Caller() caller: Principal, @Param('keyId') keyId: string): Promise<void> {
    if (!(await this.keys.revoke(keyId)))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noApiKey', { key: keyId });
    await this.audit.record({ ...by(caller), action: 'apikey.revoke', target: keyId });
  }
}
