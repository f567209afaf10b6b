import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { grantCovers, parseDeviceTopic, unshared } from '@peakwatch/contracts';
import { EmbeddedBroker } from '@peakwatch/mqtt';
import { Registry } from '@peakwatch/registry';
import { HealthRegistry } from '@peakwatch/runtime';
import { AuthThrottledError } from '@peakwatch/state';
import { CredentialsRepository, grantOf, type MqttIdentity } from '@peakwatch/state';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { IngestPipeline } from '../pipeline/ingest.pipeline';
import { REFUSAL_LOG_WINDOW_MS, RefusalLog } from './refusal-log';

/**
 * What a packet may carry besides its payload (MQTT_MAX_PAYLOAD_BYTES): a topic of up to 65,535 bytes and MQTT 5
 * properties. A larger packet closes its connection at its fixed header, before it is read (CONNECT included).
 */
const PACKET_OVERHEAD_BYTES = 2 * 65_536;
/** A socket that has not sent CONNECT within this time is closed. */
const CONNECT_TIMEOUT_MS = 10_000;
/** How often open connections are checked against the state store: a rotated or deleted secret ends them. */
export const MQTT_CREDENTIAL_CHECK_MS = 5_000;

/** CONNACK return codes of MQTT 3.1.1 §3.2.2.3. */
const CONNACK = { badUsernameOrPassword: 4, notAuthorized: 5, serverUnavailable: 3 } as const;

function refusal(message: string, returnCode: AuthenticateError['returnCode']): AuthenticateError {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The embedded aedes broker (unless MQTT_URL names an external one) with PeakWatch's policy as aedes hooks:
 * per-device authentication, topic ACLs and a connection limit. A publish is spooled durably inside
 * `authorizePublish`: aedes 1.2 handles a QoS 1 PUBLISH as authorizePublish → PUBACK → broker.publish → `published`
 * (lib/handlers/publish.js), so `published` runs after the acknowledgement has been written and cannot gate it;
 * authorizePublish's callback can, and the PUBACK leaves only once the message is on disk.
 */
@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BrokerService.name);
  private readonly refusals = new RefusalLog(this.logger);
  private broker: EmbeddedBroker | undefined;
  private readonly identities = new WeakMap<Client, MqttIdentity>();
  /**
   * Which username holds each client id: while it is connected, and for as long as its session lasts (clean start
   * off). Another identity may not take a held client id: aedes would disconnect the holder (and publish its will).
   */
  private readonly clientIdHolders = new Map<string, { username: string; client: Client }>();
  /** Payloads of device messages the broker must not pass on: a topic outside the contract, or over the size limit. */
  private readonly unforwardable = new WeakSet<Buffer>();
  private credentialCheck: NodeJS.Timeout | undefined;
  private refusalFlush: NodeJS.Timeout | undefined;
  /** The clients connected now (aedes keeps its own map, untyped). */
  private readonly connected = new Set<Client>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly health: HealthRegistry,
    private readonly registry: Registry,
    private readonly credentials: CredentialsRepository,
    private readonly pipeline: IngestPipeline,
    private readonly metrics: IngestMetrics,
  ) {}

  /** The embedded broker, when this process runs one. */
  get embedded(): EmbeddedBroker | undefined {
    return this.broker;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.mqtt.url) return;
    this.broker = await EmbeddedBroker.start({
      port: this.config.mqtt.port,
      host: this.config.mqtt.host,
      ...(this.config.mqtt.tls ? { tls: this.config.mqtt.tls } : {}),
      maxPacketBytes: this.config.ingest.maxPayloadBytes + PACKET_OVERHEAD_BYTES,
      maxConnections: this.config.mqtt.maxConnections,
      onRefused: (reason) => this.metrics.connectionsRefused.inc({ reason }),
      aedes: {
        // a connection that has not sent CONNECT within this time is closed (it holds one of maxConnections)
        connectTimeout: CONNECT_TIMEOUT_MS,
        preConnect: (_client, _packet, done) => {
          const full = (this.broker?.aedes.connectedClients ?? 0) >= this.config.mqtt.maxConnections;
          if (full) this.metrics.connectionsRefused.inc({ reason: 'too_many_connections' });
          done(null, !full);
        },
        authenticate: (client, username, password, done) => {
          this.authenticate(client, username, password).then(
            (identity) => done(null, identity !== undefined),
            () => done(refusal('authentication unavailable', CONNACK.serverUnavailable), false),
          );
        },
        authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
        // a device message outside the contract (topic, size) is not passed on to subscribers
        authorizeForward: (_client, packet) =>
          this.unforwardable.has(packet.payload as Buffer) ? null : packet,
        authorizeSubscribe: (client, subscription, done) =>
          done(null, this.allowedSubscription(client, subscription)),
      },
    });
    this.broker.aedes.on('client', (client) => {
      this.connected.add(client);
      this.metrics.connectedClients.set(this.broker?.aedes.connectedClients ?? 0);
    });
    this.broker.aedes.on('clientDisconnect', (client) => {
      this.connected.delete(client);
      this.metrics.connectedClients.set(this.broker?.aedes.connectedClients ?? 0);
      // the connection that holds the id (not an older one of the same identity it replaced) gives it up
      if (client.clean && this.clientIdHolders.get(client.id)?.client === client)
        this.clientIdHolders.delete(client.id);
    });
    this.credentialCheck = setInterval(() => {
      this.closeRevoked().catch((error: unknown) =>
        this.logger.warn(
          { err: String(error) },
          'could not check open MQTT connections against their secrets',
        ),
      );
    }, MQTT_CREDENTIAL_CHECK_MS).unref();
    this.refusalFlush = setInterval(() => this.refusals.tick(), REFUSAL_LOG_WINDOW_MS / 10).unref();
    this.health.register('broker', () =>
      Promise.resolve(this.broker !== undefined && !this.broker.aedes.closed),
    );
    this.logger.log(
      `embedded MQTT broker on ${this.config.mqtt.host}:${this.broker.port}${this.broker.tlsPort ? `, mqtts on ${this.broker.tlsPort}` : ''}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.credentialCheck);
    clearInterval(this.refusalFlush);
    this.refusals.flush();
    await this.broker?.close();
    this.broker = undefined;
  }

  /**
   * Closes the connections whose secret was rotated or deleted since they authenticated, in this process or any other
   * sharing the state store (the API, the command line): within MQTT_CREDENTIAL_CHECK_MS.
   */
  private async closeRevoked(): Promise<void> {
    const open: [Client, MqttIdentity][] = [];
    for (const client of this.connected) {
      const identity = this.identities.get(client);
      if (identity) open.push([client, identity]);
    }
    if (open.length === 0) return;
    const current = await this.credentials.secretVersions([...new Set(open.map(([, i]) => i.username))]);
    for (const [client, identity] of open) {
      if (current.get(identity.username) === identity.secretVersion) continue;
      this.logger.warn(
        { username: identity.username, client: client.id },
        'MQTT connection closed: its secret was rotated or deleted',
      );
      client.close();
    }
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<MqttIdentity | undefined> {
    let identity: MqttIdentity | undefined;
    try {
      identity =
        username && password
          ? await this.credentials.verify(username, password.toString('utf8'), remoteAddress(client))
          : undefined;
    } catch (error) {
      if (!(error instanceof AuthThrottledError)) throw error;
      this.refused(
        'auth_throttled',
        { username, client: client.id, address: remoteAddress(client) },
        'too many failed authentications',
      );
      return undefined;
    }
    if (!identity || (identity.role === 'device' && !this.registry.device(identity.username))) {
      this.refused(
        'bad_credentials',
        { username, client: client.id, address: remoteAddress(client) },
        'unknown user or wrong secret',
      );
      return undefined;
    }
    const holder = this.clientIdHolders.get(client.id)?.username;
    if (holder !== undefined && holder !== identity.username) {
      this.refused(
        'client_id_taken',
        { username, client: client.id, address: remoteAddress(client) },
        'the client id belongs to another identity',
      );
      return undefined;
    }
    this.clientIdHolders.set(client.id, { username: identity.username, client });
    this.identities.set(client, identity);
    return identity;
  }

  /** Counts a refused connection, and logs it (RefusalLog: a flood is a few lines). */
  private refused(reason: string, fields: object, why: string): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.refusals.refused(reason, fields, `MQTT connection refused: ${why}`);
  }

  /** A device publishes only under energy/v1/{its site}/{its id}/, a service client only alerts (TopicGrant). */
  private authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    if (!client) return done(null);
    const identity = this.identities.get(client);
    if (identity?.role === 'device') {
      // a device's message is retained only on its status topic, and passed on only when it is within the contract
      if (packet.retain && !packet.topic.endsWith('/status')) packet.retain = false;
      const payload = packet.payload as Buffer;
      if (!parseDeviceTopic(packet.topic) || payload.length > this.config.ingest.maxPayloadBytes)
        this.unforwardable.add(payload);
    }
    if (identity && this.mayPublish(identity, packet.topic)) {
      // alerts (services) and demand-response requests (grid operators) are for their subscribers, not readings
      if (identity.role !== 'device') return done(null);
      // Spooled before the callback, and so before the PUBACK (see the class comment).
      this.pipeline.handle(packet.topic, packet.payload as Buffer, (error) => {
        if (!error) return done(null);
        // Not acknowledged: the device keeps the message and sends it again.
        this.logger.error({ err: String(error) }, 'could not spool a message: not acknowledging it');
        done(error);
      });
      return;
    }
    // MQTT 3.1.1 has no negative PUBACK: refusing closes the connection (§3.3.5). The refusal is recorded first.
    this.pipeline.refuse(
      'topic_not_allowed',
      packet.topic,
      `client ${identity?.username ?? client.id} may not publish here`,
      packet.payload as Buffer,
      () => done(new Error('topic not allowed')),
      identity?.username,
    );
  }

  private mayPublish(identity: MqttIdentity, topic: string): boolean {
    const grant = grantOf(identity, this.registry);
    return grant !== undefined && grantCovers(grant.publish, topic);
  }

  /** A device may subscribe under its own topics only (no wildcard reaching others); services as their grant says. */
  private allowedSubscription(client: Client, subscription: Subscription): Subscription | null {
    const identity = this.identities.get(client);
    const grant = identity && grantOf(identity, this.registry);
    return grant && grantCovers(grant.subscribe, unshared(subscription.topic)) ? subscription : null;
  }
}

/** The peer address of an aedes client's connection ('' when it has none, e.g. a test stream). */
function remoteAddress(client: Client): string {
  return (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress ?? '';
}
