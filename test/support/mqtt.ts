import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Connects an mqtt.js client and waits for CONNACK (rejects on a refused connection); later errors are its own. */
export function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
    const onError = (error: Error): void => {
      client.end(true);
      reject(error);
    };
    client.once('error', onError);
    client.once('connect', () => {
      client.off('error', onError);
      resolve(client);
    });
  });
}

/** Resolves with the first message on `topic` after subscribing, then publishes nothing itself. */
export function nextMessage(client: MqttClient, topic: string): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      client.off('message', onMessage);
      resolve({ topic: t, payload });
    };
    client.on('message', onMessage);
  });
}
