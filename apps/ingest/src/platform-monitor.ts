import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Clock, HealthRegistry, SingleRun, replicaOf } from '@peakwatch/runtime';
import {
  INGEST_HEARTBEAT_KEY,
  INGEST_HEARTBEAT_MS,
  INGEST_HEARTBEAT_STALE_MS,
  StateStore,
  closeOutages,
  openOutage,
  recordOutage,
} from '@peakwatch/state';

/** The health checks whose failures are PeakWatch's outages, by the component they are recorded as. */
const WATCHED = { broker: 'broker', influx: 'influxdb' } as const;

/**
 * PeakWatch's own health history (docs/incidents.md, "Platform outages"): every INGEST_HEARTBEAT_MS this ingest replica
 * checks its broker (the embedded one, or its connection to the external one) and InfluxDB, records the start and end
 * of each of its outages in the state store, and beats. At start it ends the outages it had left open and records the
 * time ingest was not running since the last beat. The alerts read these to attribute gaps to the platform.
 */
@Injectable()
export class PlatformMonitor implements OnApplicationBootstrap {
  private readonly logger = new Logger('PlatformMonitor');
  private readonly single = new SingleRun((error) =>
    this.logger.warn({ err: String(error) }, 'platform health not recorded; retried at the next check'),
  );
  private replica = '';

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly health: HealthRegistry,
    private readonly state: StateStore,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.replica = await replicaOf(this.config.dataDir, this.state);
    const nowMs = this.clock.now();
    const at = new Date(nowMs).toISOString();
    // what this replica saw before it stopped ends here: its next check opens anew what is still down
    await closeOutages(this.state.db, this.replica, at);
    const beat = await this.state.info(INGEST_HEARTBEAT_KEY);
    if (beat !== undefined && nowMs - Date.parse(beat) > INGEST_HEARTBEAT_STALE_MS) {
      this.logger.warn({ since: beat }, 'ingest was not running: the gap is recorded as a platform outage');
      await recordOutage(this.state.db, 'ingest', this.replica, beat, at);
    }
    // beats, but checks only from the first interval: the broker's connection may still be under way at start
    await this.state.setInfo(INGEST_HEARTBEAT_KEY, at, at);
  }

  @Interval(INGEST_HEARTBEAT_MS)
  async tick(): Promise<void> {
    await this.single.run(() => this.check(this.clock.now()));
  }

  /** Checks the broker and InfluxDB at `nowMs`, records what changed for this replica, and beats. */
  async check(nowMs: number): Promise<void> {
    const at = new Date(nowMs).toISOString();
    const { checks } = await this.health.report();
    for (const [check, component] of Object.entries(WATCHED)) {
      if (checks[check] === 'down') await openOutage(this.state.db, component, this.replica, at);
      // up, or no longer checked here (the broker's mode changed): over
      else await closeOutages(this.state.db, this.replica, at, component);
    }
    await this.state.setInfo(INGEST_HEARTBEAT_KEY, at, at);
  }
}
