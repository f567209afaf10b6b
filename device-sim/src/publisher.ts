import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DEVICE_STATUS, deviceTopic } from '@peakwatch/contracts';

export interface PublisherOptions {
  brokerUrl: string;
  /** Device secrets by device id; a device without one connects without a password. */
  credentials: Record<string, string>;
  qos: 0 | 1 | 2;
  /** Publishes in flight at once across all devices; more wait for acknowledgements. */
  maxInFlight: number;
}

/** Connects mqtt.js as one device: username = device id, password = its secret, LWT `offline` on its status topic. */
export function connectDevice(
  options: PublisherOptions,
  siteId: string,
  deviceId: string,
  password = options.credentials[deviceId],
  clientId = `sim-${deviceId}`,
): Promise<MqttClient> {
  const statusTopic = deviceTopic(siteId, deviceId, 'status');
  const clientOptions: IClientOptions = {
    clientId,
    username: deviceId,
    ...(password !== undefined ? { password } : {}),
    clean: true,
    keepalive: 30,
    // Reconnect and resend unacknowledged QoS 1 messages if the broker goes away (e.g. ingest restarts).
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    will: { topic: statusTopic, payload: Buffer.from(DEVICE_STATUS.offline), qos: 1, retain: true },
  };
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(options.brokerUrl, clientOptions);
    const onError = (error: Error): void => {
      client.end(true);
      reject(new Error(`device ${deviceId} could not connect to ${options.brokerUrl}: ${error.message}`));
    };
    client.once('error', onError);
    client.once('connect', () => {
      client.off('error', onError);
      client.on('error', () => undefined); // later errors surface as reconnects; publishes wait for them
      client.publish(statusTopic, DEVICE_STATUS.online, { qos: 1, retain: true });
      resolve(client);
    });
  });
}

/**
 * One MQTT connection per simulated device, publishing in call order per device, with a bounded number of
 * unacknowledged publishes overall so that history is sent "as fast as the broker acknowledges".
 */
export class DevicePublishers {
  private readonly clients = new Map<string, Promise<MqttClient>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: PublisherOptions) {}

  private client(siteId: string, deviceId: string): Promise<MqttClient> {
    let client = this.clients.get(deviceId);
    if (!client) {
      client = connectDevice(this.options, siteId, deviceId);
      this.clients.set(deviceId, client);
    }
    return client;
  }

  /** Connects every device up front (so a bad broker URL fails fast). */
  async connectAll(devices: { siteId: string; deviceId: string }[]): Promise<void> {
    await Promise.all(devices.map((d) => this.client(d.siteId, d.deviceId)));
  }

  /** Queues a publish; resolves once it may proceed (not when it is acknowledged: see `drain`). */
  async publish(siteId: string, deviceId: string, topic: string, payload: string): Promise<void> {
    while (this.inFlight.size >= this.options.maxInFlight) await Promise.race(this.inFlight);
    const client = await this.client(siteId, deviceId);
    const sent = client.publishAsync(topic, payload, { qos: this.options.qos }).then(
      () => undefined,
      (error: Error) => {
        throw new Error(`publish by ${deviceId} failed: ${error.message}`);
      },
    );
    const tracked = sent.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Waits until every publish so far is acknowledged. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /** Drops the device's connection without DISCONNECT, so the broker publishes its will (`offline`). */
  async dropConnection(deviceId: string): Promise<void> {
    await this.drain();
    const client = this.clients.get(deviceId);
    if (!client) return;
    this.clients.delete(deviceId);
    const c = await client;
    c.stream.destroy();
    await c.endAsync(true);
  }

  /** Tries to connect as the device with a wrong password; resolves to whether the broker refused it. */
  async tryWrongCredentials(siteId: string, deviceId: string): Promise<boolean> {
    try {
      // A client id of its own, so that an accepting broker does not take over the real device's session.
      const client = await connectDevice(
        this.options,
        siteId,
        deviceId,
        `wrong-${deviceId}-secret`,
        `sim-intruder-${deviceId}`,
      );
      await client.endAsync(true);
      return false;
    } catch {
      return true;
    }
  }

  /** Marks every device offline (retained) and disconnects cleanly. */
  async close(): Promise<void> {
    await this.drain().catch(() => undefined);
    const clients = await Promise.allSettled([...this.clients.values()]);
    await Promise.all(
      clients.map(async (c) => {
        if (c.status !== 'fulfilled') return;
        const client = c.value;
        const [siteId, deviceId] = [client.options.will?.topic?.split('/')[2], client.options.username];
        if (siteId && deviceId)
          await client
            .publishAsync(deviceTopic(siteId, deviceId, 'status'), DEVICE_STATUS.offline, {
              qos: 1,
              retain: true,
            })
            .catch(() => undefined);
        await client.endAsync();
      }),
    );
    this.clients.clear();
  }
}
