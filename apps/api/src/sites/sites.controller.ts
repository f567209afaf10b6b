import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CredentialsRepository } from '@peakwatch/state';
import { Registry, deviceSchema, type Device } from '@peakwatch/registry';
import { ProvisionedDevices } from '@peakwatch/runtime';
import { AuditLog } from '@peakwatch/state';
import { by } from '../auth/audit';
import { parseInput } from '../validation';
import { ApiTextException } from '../translated.error';
import { Access } from '../auth/access';
import { ApiKeyGuard, Caller, Roles } from '../auth/api-key.guard';
import type { Principal } from '../auth/api-keys.repository';

/** The registry as each caller may see it. A site outside the caller's scope is 404: its existence does not leak. */
@ApiTags('registry')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/sites')
export class SitesController {
  constructor(
    private readonly registry: Registry,
    private readonly access: Access,
    private readonly credentials: CredentialsRepository,
    private readonly provisioned: ProvisionedDevices,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The sites the caller may see' })
  list(@Caller() caller: Principal): unknown[] {
    return this.access.sites(caller).map((id) => this.summary(id));
  }

  @Get(':siteId')
  @ApiOperation({ summary: 'One site with its devices' })
  get(@Caller() caller: Principal, @Param('siteId') siteId: string): unknown {
    const site = this.visible(caller, siteId);
    return { ...this.summary(site.id), devices: site.devices };
  }

  @Get(':siteId/devices')
  @ApiOperation({ summary: "A site's devices" })
  devices(@Caller() caller: Principal, @Param('siteId') siteId: string): unknown[] {
    return this.visible(caller, siteId).devices;
  }

  /**
   * Provisions a new device at a site (kept in the state store beside the registry files, known at once to this
   * process and within 30 s to the others) and issues its MQTT secret, shown once.
   */
  @Post(':siteId/devices')
  @HttpCode(201)
  @Roles('admin', 'facility_manager')
  @ApiOperation({ summary: 'Create a device and issue its MQTT secret (shown once)' })
  async create(
    @Caller() caller: Principal,
    @Param('siteId') siteId: string,
    @Body() body: unknown,
  ): Promise<{ device: Device; secret: string }> {
    this.visible(caller, siteId);
    const device = parseInput(deviceSchema, body, 'body');
    // refused: a service client's username or a taken id 409, an invalid device 400, an external broker that could
    // not be updated 503 (PeakWatchErrorFilter)
    await this.credentials.assertAvailable(device.id, 'device');
    await this.provisioned.add(siteId, device);
    const secret = await this.credentials.issue(device.id, 'device', siteId);
    await this.audit.record({
      ...by(caller),
      action: 'device.create',
      target: `${siteId}/${device.id}`,
      detail: { kind: device.kind, role: device.role },
    });
    return { device, secret };
  }

  /**
   * Issues or rotates a device's MQTT secret and returns it once (only its hash is kept). Devices are declared in
   * the registry (seeds/sites); this provisions their credentials.
   */
  @Post(':siteId/devices/:deviceId/secret')
  @HttpCode(201)
  @Roles('admin', 'facility_manager')
  @ApiOperation({ summary: "Issue or rotate a device's MQTT secret (shown once)" })
  async secret(
    @Caller() caller: Principal,
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
  ): Promise<{ deviceId: string; secret: string }> {
    this.device(caller, siteId, deviceId);
    const secret = await this.credentials.issue(deviceId, 'device', siteId);
    await this.audit.record({
      ...by(caller),
      action: 'device.secret.issue',
      target: `${siteId}/${deviceId}`,
    });
    return { deviceId, secret };
  }

  /** Deletes a device's MQTT secret: it can no longer connect (until a new one is issued). */
  @Delete(':siteId/devices/:deviceId/secret')
  @HttpCode(204)
  @Roles('admin', 'facility_manager')
  @ApiOperation({ summary: "Delete a device's MQTT secret: it can no longer connect" })
  async deleteSecret(
    @Caller() caller: Principal,
    @Param('siteId') siteId: string,
    @Param('deviceId') deviceId: string,
  ): Promise<void> {
    this.device(caller, siteId, deviceId);
    if (!(await this.credentials.delete(deviceId, 'device')))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noSecret', { device: deviceId });
    await this.audit.record({
      ...by(caller),
      action: 'device.secret.delete',
      target: `${siteId}/${deviceId}`,
    });
  }

  /** A device of a site the caller may see (404 otherwise). */
  private device(caller: Principal, siteId: string, deviceId: string): void {
    const site = this.visible(caller, siteId);
    if (!site.devices.some((d) => d.id === deviceId))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noDevice', { site: siteId, device: deviceId });
  }

  private visible(caller: Principal, siteId: string) {
    const site = this.registry.site(siteId);
    if (!site || !this.access.site(caller, siteId))
      throw new ApiTextException(HttpStatus.NOT_FOUND, 'noSite', { site: siteId });
    return site;
  }

  private summary(id: string): Record<string, unknown> {
    const site = this.registry.site(id)!;
    const { devices, ...rest } = site;
    return { ...rest, deviceCount: devices.length };
  }
}
