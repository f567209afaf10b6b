import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { DR_TOPIC_ROOT, parseDrRequestTopic } from '@peakwatch/contracts';
import { Registry } from '@peakwatch/registry';
import { Clock, LiveEvents, replicaOf } from '@peakwatch/runtime';
import {
  AuditLog,
  CredentialsRepository,
  DrEvents,
  StateStore,
  drEventRequestSchema,
} from '@peakwatch/state';
import mqtt, { type MqttClient } from 'mqtt';
import { Counter, Registry as MetricsRegistry } from 'prom-client';

/** The service client that reads demand-response requests (its own name: issuing it a secret closes no other client). */
export const DR_MQTT_USER = 'peakwatch-dr';
/** The requests of every district. */
const REQUESTS = `${DR_TOPIC_ROOT}/+/requests`;
/** On an external broker, each request read by one replica of the alerts service among several. */
const SHARED_REQUESTS = `$share/peakwatch-dr/${REQUESTS}`;
/** The largest request read (a request is a few hundred bytes). */
const MAX_REQUEST_BYTES = 64 * 1024;
/** How long an external broker keeps the session of a replica that went away (and the requests for it). */
const SESSION_EXPIRY_S = 7 * 24 * 3600;

/**
 * Demand-response requests over MQTT (docs/contracts.md, "Demand-response events"): a district's grid operator
 * publishes on `dr/v1/{district}/requests` (the broker lets only that district's operators publish there), and each
 * request becomes an event exactly as through the API, for the district's sites, announced the same way. A request
 * refused is counted by reason (`peakwatch_dr_requests_total`) and logged with its field, never stored; one sent
 * again (the same `requestId`) is the same event, not announced twice.
 */
@Injectable()
export class DrRequestListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DrRequestListener');
  private readonly events: DrEvents;
  private readonly requests: Counter<'outcome'>;
  private client: MqttClient | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly registry: Registry,
    private readonly credentials: CredentialsRepository,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    metrics: MetricsRegistry,
    private readonly state: StateStore,
  ) {
    this.events = new DrEvents(state);
    this.requests = new Counter({
      name: 'peakwatch_dr_requests_total',
      help: 'Demand-response requests read over MQTT, by outcome: created, repeated, or refused_<field>',
      labelNames: ['outcome'],
      registers: [metrics],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const { url, username, password, port } = this.config.mqtt;
    // on the embedded broker, a secret of its own (only its hash is stored); on an external one, PeakWatch's client
    const credentials = url
      ? { username: username ?? DR_MQTT_USER, password: password ?? '' }
      : { username: DR_MQTT_USER, password: await this.credentials.issue(DR_MQTT_USER, 'service', null) };
    // one persistent session per replica: requests published while it was away are delivered when it is back
    const clientId = `${DR_MQTT_USER}-${(await replicaOf(this.config.dataDir, this.state)).slice(0, 8)}`;
    let reported = false;
    this.client = mqtt.connect(url ?? `mqtt://127.0.0.1:${port}`, {
      ...credentials,
      clientId,
      clean: false,
      // MQTT 5 on an external broker, for the session's expiry; the embedded broker speaks 3.1.1
      ...(url ? { protocolVersion: 5, properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}),
      reconnectPeriod: 2_000,
      connectTimeout: 5_000,
    });
    // one request at a time, acknowledged (PUBACK) once handled: a request that could not be stored (the state store
    // down) is not acknowledged, and the broker sends it again (mqtt.js sends the PUBACK when this calls back)
    this.client.handleMessage = (packet, done) => {
      if (packet.cmd !== 'publish') return done();
      this.handle(packet.topic, packet.payload as Buffer).then(
        () => done(),
        (error: unknown) => {
          this.logger.error({ err: String(error) }, 'demand-response request not handled; not acknowledged');
          done(error as Error);
        },
      );
    };
    this.client.on('connect', () => {
      reported = false;
      // a resumed session keeps its subscription; subscribing again is harmless and covers a lost one
      // (the embedded broker has no shared subscriptions: it serves one process)
      this.client?.subscribe(url ? SHARED_REQUESTS : REQUESTS, { qos: 1 });
    });
    this.client.on('error', (error) => {
      if (!reported)
        this.logger.warn(
          { err: error.message },
          'demand-response requests: MQTT connection failed, retrying',
        );
      reported = true;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.endAsync().catch(() => undefined);
    this.client = undefined;
  }

  /** One request: checked, and created as an event of the topic's district, or refused with its reason. */
  async handle(topic: string, payload: Buffer): Promise<void> {
    const district = parseDrRequestTopic(topic);
    const refuse = (field: string, problem: string): void => {
      this.requests.inc({ outcome: `refused_${field.split('.')[0]}` });
      this.logger.warn({ topic, field, problem }, 'demand-response request refused');
    };
    if (!district) return refuse('topic', 'not a request topic');
    if (payload.length > MAX_REQUEST_BYTES) return refuse('payload', `over ${MAX_REQUEST_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      return refuse('payload', 'not JSON');
    }
    const parsed = drEventRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return refuse(issue.path.join('.') || 'payload', issue.message);
    }
    const input = parsed.data;
    if (input.requestId === undefined)
      return refuse('requestId', 'required over MQTT (a request may arrive twice)');
    if (input.district !== undefined && input.district !== district)
      return refuse('district', `the topic is ${district}'s`);
    const submitted = await this.events.submit(input, {
      requester: {
        actor: `mqtt:${district}`,
        role: 'dr_operator',
        // the operator of a district names its sites only
        sites: new Set(this.registry.sites.filter((s) => s.district === district).map((s) => s.id)),
        namespace: `mqtt:${district}`,
      },
      registry: this.registry,
      receivers: this.config.alerts,
      nowMs: this.clock.now(),
    });
    if ('refusal' in submitted) return refuse(submitted.refusal.field, submitted.refusal.problem);
    const { event, announcements, created } = submitted;
    this.requests.inc({ outcome: created ? 'created' : 'repeated' });
    if (!created) return;
    for (const a of announcements) this.live.emit({ type: 'dr_event', siteId: a.siteId, data: a });
    await this.audit.record(
      {
        actor: `mqtt:${district}`,
        role: 'dr_operator',
        action: 'dr_event.create',
        target: event.id,
        detail: {
          district,
          sites: event.siteIds,
          startsAt: event.startsAt,
          endsAt: event.endsAt,
          requestId: input.requestId,
        },
      },
      event.createdAt,
    );
    this.logger.log(
      { event: event.id, district, sites: event.siteIds.length },
      'demand-response event requested over MQTT',
    );
  }
}
