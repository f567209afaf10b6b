import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { EmbeddedBroker } from '@peakwatch/mqtt';
import { HealthRegistry } from '@peakwatch/runtime';

/**
 * Runs the embedded aedes broker on MQTT_HOST:MQTT_PORT unless MQTT_URL names an external one.
 * Device authentication, ACLs and the ingest pipeline attach here (issue 4).
 */
@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BrokerService.name);
  private broker: EmbeddedBroker | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly health: HealthRegistry,
  ) {}

  /** The embedded broker, when this process runs one. */
  get embedded(): EmbeddedBroker | undefined {
    return this.broker;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.mqtt.url) {
      this.logger.log(`external broker mode: ${redact(this.config.mqtt.url)}`);
      return;
    }
    this.broker = await EmbeddedBroker.start({ port: this.config.mqtt.port, host: this.config.mqtt.host });
    this.health.register('broker', () => Promise.resolve(!this.broker?.aedes.closed));
    this.logger.log(`embedded MQTT broker on ${this.config.mqtt.host}:${this.broker.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker?.close();
    this.broker = undefined;
  }
}

/** Hides the password of a broker URL in logs. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
