import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock, HealthRegistry, SingleRun } from '@peakwatch/runtime';
import {
  INGEST_HEARTBEAT_KEY,
  INGEST_HEARTBEAT_MS,
  INGEST_HEARTBEAT_STALE_MS,
  StateStore,
  closeOutage,
  openOutage,
  recordOutage,
} from '@peakwatch/state';

/** The health checks whose failures are PeakWatch's outages, by the component they are recorded as. */
const WATCHED = { broker: 'broker', influx: 'influxdb' } as const;

/**
 * PeakWatch's own health history (docs/incidents.md, "Platform outages"): every INGEST_HEARTBEAT_MS ingest checks its
 * broker (the embedded one, or its connection to the external one) and InfluxDB, records each outage's start and end
 * in the state store, and beats. At start it records the time it was not running since its last beat. The alerts
 * read these to attribute the gaps to the platform instead of the sites.
 */
@Injectable()
export class PlatformMonitor implements OnApplicationBootstrap {
  private readonly logger = new Logger('PlatformMonitor');
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'platform health not recorded; retried at the next check'),
  );

  constructor(
    private readonly health: HealthRegistry,
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nowMs = this.clock.now();
    const beat = await this.state.info(INGEST_HEARTBEAT_KEY);
    if (beat !== undefined && nowMs - Date.parse(beat) > INGEST_HEARTBEAT_STALE_MS) {
      this.logger.warn({ since: beat }, 'ingest was not running: the gap is recorded as a platform outage');
      await recordOutage(this.state.db, 'ingest', beat, new Date(nowMs).toISOString());
    }
    // beats, but checks only from the first interval: the broker's connection may still be under way at start
    const at = new Date(nowMs).toISOString();
    await this.state.setInfo(INGEST_HEARTBEAT_KEY, at, at);
  }

  @Interval(INGEST_HEARTBEAT_MS)
  async tick(): Promise<void> {
    await this.single.run(() => this.check(this.clock.now()));
  }

  /** Checks the broker and InfluxDB at `nowMs`, records what changed, and beats. */
  async check(nowMs: number): Promise<void> {
    const at = new Date(nowMs).toISOString();
    const { checks } = await this.health.report();
    for (const [check, component] of Object.entries(WATCHED)) {
      if (checks[check] === undefined) continue;
      if (checks[check] === 'down') await openOutage(this.state.db, component, at);
      else await closeOutage(this.state.db, component, at);
    }
    await this.state.setInfo(INGEST_HEARTBEAT_KEY, at, at);
  }
}
