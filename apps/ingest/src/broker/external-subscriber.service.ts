import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import mqtt, { type ISubscriptionMap, type MqttClient } from 'mqtt';
import { InjectConfig, hideCredentials, type AppConfig } from '@peakwatch/config';
import { HealthRegistry, replicaOf } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { IngestPipeline } from '../pipeline/ingest.pipeline';

/** The shared-subscription group of every ingest replica (MQTT 5 §4.8.2). */
export const SHARE_GROUP = 'peakwatch';
export const INGEST_SUBSCRIPTIONS = [
  `$share/${SHARE_GROUP}/energy/v1/+/+/telemetry`,
  `$share/${SHARE_GROUP}/energy/v1/+/+/event`,
];
/** The broker keeps our session (and unacknowledged messages) this long while we are away (seconds). */
const SESSION_EXPIRY_S = 7 * 24 * 3600;

/**
 * External-broker mode (MQTT_URL set): ingest subscribes with MQTT 5 shared subscriptions, QoS 1 and a persistent
 * session, so that several replicas split the load and a message is acknowledged (PUBACK to the broker) only once
 * it is in this replica's spool. An unacknowledged message is redelivered by the broker. mqtt.js handles the
 * messages of one connection one after another, so each waits for its spool sync: scale with batches and replicas.
 * Every packet received counts as a sign of life of the broker (mqtt.js counts only acknowledgements and ping
 * answers): with a backlog queued for the session, the answer to a ping waits behind every message before it, and
 * would be taken for a broker gone (MQTT_KEEPALIVE_SECONDS) while messages keep arriving.
 */
@Injectable()
export class ExternalSubscriberService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ExternalSubscriberService.name);
  private client: MqttClient | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly pipeline: IngestPipeline,
    private readonly state: StateStore,
    private readonly health: HealthRegistry,
    private readonly metrics: IngestMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const url = this.config.mqtt.url;
    if (!url) return;
    // one client (and persistent session) per replica, not per installation: replicas on one PostgreSQL share its id
    const replica = await replicaOf(this.config.dataDir, this.state);
    const clientId = `peakwatch-ingest-${replica.slice(0, 8)}`;
    this.client = mqtt.connect(url, {
      clientId,
      protocolVersion: 5,
      clean: false,
      keepalive: this.config.mqtt.keepaliveSeconds,
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
      reconnectPeriod: 1_000,
      ...(this.config.mqtt.username ? { username: this.config.mqtt.username } : {}),
      ...(this.config.mqtt.password ? { password: this.config.mqtt.password } : {}),
      customHandleAcks: (topic, payload, _packet, done) => {
        this.pipeline.handle(topic, payload, (error) => done(error ?? 0));
      },
    });
    this.client.on('error', (error) => this.logger.warn({ err: error.message }, 'external broker error'));
    this.client.on('packetreceive', () => this.client?.reschedulePing(true));
    this.client.on('connect', (connack) => {
      this.metrics.externalConnections.inc();
      // A resumed session should keep its subscriptions, but mosquitto 2.0 restarted from its persistence says the
      // session is present without its shared subscriptions: subscribe again at every connection (`resubscribe`,
      // or mqtt.js skips topics it believes subscribed), which is harmless where they were kept.
      if (!connack.sessionPresent) this.logger.log({ clientId }, 'new session on the external broker');
      const topics = Object.fromEntries(INGEST_SUBSCRIPTIONS.map((t) => [t, { qos: 1 as const }]));
      this.client!.subscribe({ ...topics, resubscribe: true } as ISubscriptionMap, (error) => {
        if (error) this.logger.error({ err: error.message }, 'subscription failed');
      });
    });
    this.health.register('broker', () => Promise.resolve(this.client?.connected ?? false));
    await new Promise<void>((resolve) => {
      this.client!.once('connect', () => resolve());
      this.client!.once('error', () => resolve());
    });
    this.logger.log({ url: hideCredentials(url), clientId }, 'external broker mode: shared subscription');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.endAsync();
  }
}
