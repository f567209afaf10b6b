import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import { join } from 'node:path';
import { loadRegistry, Registry } from '@peakwatch/registry';
import { checkSiteTariffs, loadPolicyData, PolicyData } from '@peakwatch/policy';
import { APP_CONFIG, ConfigModule, type AppConfig } from '@peakwatch/config';
import { InfluxClient } from '@peakwatch/influx';
import { StateModule, StateStore } from '@peakwatch/state';
import { Clock } from './clock';
import { REDACTED, REDACTED_LOG_PATHS } from './redact';
import { HealthController } from './health.controller';
import { HealthRegistry } from './health.registry';
import { LiveEvents } from './live-events';
import { ProvisionedDevices } from './provisioned-devices';
import { CREDENTIALS_PROVIDER } from './credentials.provider';
import { CredentialsRepository, JobLeases } from '@peakwatch/state';
import { MetricsController } from './metrics.controller';
import { MetricsListener } from './metrics-listener';

const APP_NAMES = Symbol('APP_NAMES');

/** Where a process writes its structured log (anything pino can write to). */
export type LogDestination = pino.DestinationStream;

/**
 * What every PeakWatch process shares, whichever apps it runs: the validated config, the structured logger (pino,
 * JSON on standard error so that standard output stays for command output), the state store, the InfluxDB client,
 * the registry of sites and devices, the scheduler, GET /health and GET /metrics.
 */
@Global()
@Module({})
export class CoreModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('core');

  constructor(
    private readonly influx: InfluxClient,
    private readonly state: StateStore,
    private readonly health: HealthRegistry,
    @Inject(APP_NAMES) private readonly appNames: string[],
  ) {}

  static forRoot(
    config: AppConfig,
    appNames: string[],
    clock: Clock = Clock.system(),
    log: LogDestination = pino.destination({ fd: 2, sync: true }),
  ): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          // Probes and scrapes need no request context; left out, they do not switch on the AsyncLocalStorage
          // hooks that would then cost every promise of the process (ingest's hot path included).
          exclude: ['health', 'health/live', 'metrics'],
          pinoHttp: [
            {
              level: config.logLevel,
              autoLogging: false,
              base: { apps: appNames.join(',') },
              redact: { paths: [...REDACTED_LOG_PATHS], censor: REDACTED },
            },
            log,
          ],
        }),
        StateModule,
        ScheduleModule.forRoot(),
      ],
      providers: [
        MetricsListener,
        { provide: APP_NAMES, useValue: appNames },
        { provide: Clock, useValue: clock },
        {
          provide: InfluxClient,
          useFactory: (c: AppConfig) => new InfluxClient(c.influx),
          inject: [APP_CONFIG],
        },
        HealthRegistry,
        LiveEvents,
        ProvisionedDevices,
        CREDENTIALS_PROVIDER,
        {
          // Scheduled work leased across the replicas that share a PostgreSQL state store (docs/deployment.md)
          provide: JobLeases,
          useFactory: (state: StateStore, c: Clock, conf: AppConfig) =>
            new JobLeases(state, () => c.now(), { ttlMs: conf.jobs.leaseMs, renewMs: conf.jobs.leaseMs / 3 }),
          inject: [StateStore, Clock, APP_CONFIG],
        },
        {
          // One Prometheus registry per process (not prom-client's global one, so that tests can build many apps).
          provide: MetricsRegistry,
          useFactory: () => {
            const registry = new MetricsRegistry();
            collectDefaultMetrics({ register: registry, prefix: 'peakwatch_' });
            return registry;
          },
        },
        {
          // Policy thresholds and emission factors (seeds/policy, seeds/emission-factors); a broken file, or an
          // entry without a source, stops start-up.
          provide: PolicyData,
          useFactory: (c: AppConfig) => loadPolicyData(c.seedsDir),
          inject: [APP_CONFIG],
        },
        {
          // The registry of sites and devices (seeds/sites/*.yaml); a broken file, or a tariff seeds/tariffs does not
          // have, stops start-up.
          provide: Registry,
          useFactory: (c: AppConfig, policy: PolicyData) => {
            const registry = loadRegistry(join(c.seedsDir, 'sites'));
            checkSiteTariffs(registry, policy.tariffs);
            return registry;
          },
          inject: [APP_CONFIG, PolicyData],
        },
      ],
      // /metrics on the HTTP server, unless METRICS_PORT gives it a listener of its own
      controllers: [HealthController, ...(config.metrics ? [] : [MetricsController])],
      exports: [
        Clock,
        InfluxClient,
        HealthRegistry,
        LiveEvents,
        MetricsRegistry,
        ProvisionedDevices,
        Registry,
        PolicyData,
        CredentialsRepository,
        JobLeases,
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.setApps(this.appNames);
    this.health.register('state', () => this.state.ping());
    this.health.register('influx', () => this.influx.ping());
    try {
      await this.influx.ensureDatabase();
    } catch (error) {
      // InfluxDB may come up after us; writers keep their data until it does (see the ingest spool).
      this.logger.warn({ err: error }, 'InfluxDB not reachable at start; continuing');
    }
  }
}
