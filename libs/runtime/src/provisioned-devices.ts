import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Registry, deviceSchema, type Device } from '@peakwatch/registry';
import { StateStore } from '@peakwatch/state';

/**
 * Devices provisioned through the API: kept in the state store and added to this process's registry at start and
 * every 30 seconds, so that every process sharing the store (ingest replicas included) comes to know them.
 */
/** How often devices created through the API by another process are read again (ms). */
export const PROVISIONED_REFRESH_MS = 30_000;

@Injectable()
export class ProvisionedDevices implements OnModuleInit {
  private readonly logger = new Logger('ProvisionedDevices');

  constructor(
    private readonly registry: Registry,
    private readonly state: StateStore,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
  }

  /**
   * Provisions a device: checked, stored, then known to this process at once (never known here without being
   * stored). Throws naming the problem.
   */
  async add(siteId: string, device: Device): Promise<void> {
    this.registry.checkDevice(siteId, device);
    await this.state.db
      .insertInto('provisioned_device')
      .values({
        device_id: device.id,
        site_id: siteId,
        spec: JSON.stringify(device),
        created_at: new Date().toISOString(),
      })
      .execute();
    this.registry.addDevice(siteId, device);
  }

  @Interval(PROVISIONED_REFRESH_MS)
  async refresh(): Promise<void> {
    const rows = await this.state.db.selectFrom('provisioned_device').selectAll().execute();
    for (const row of rows) {
      if (this.registry.device(row.device_id)) continue;
      try {
        this.registry.addDevice(row.site_id, deviceSchema.parse(JSON.parse(row.spec)));
      } catch (error) {
        this.logger.warn({ device: row.device_id, err: String(error) }, 'provisioned device not added');
      }
    }
  }
}
