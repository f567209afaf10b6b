import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditLog, type AuditRecord } from '@peakwatch/state';
import { ApiKeyGuard, Roles } from '../auth/api-key.guard';

/** Entries the audit endpoint returns, newest first. */
const AUDIT_PAGE = 500;

/** The audit log, for admins (docs/security.md, "Audit"). */
@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Roles('admin')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOperation({
    summary:
      'Who created or changed devices, MQTT secrets, API keys, report inputs and acknowledgements, newest first',
  })
  list(): Promise<AuditRecord[]> {
    return this.audit.latest(AUDIT_PAGE);
  }
}
