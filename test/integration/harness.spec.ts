import { Point } from '@influxdata/influxdb-client';
import type { MqttClient } from 'mqtt';
import { EmbeddedBroker } from '@peakwatch/mqtt';
import { startInfluxd, type TestInfluxd } from '../support/influxd';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';
import { connectClient, nextMessage } from '../support/mqtt';

describe('test harness: real influxd', () => {
  let influxd: TestInfluxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(() => influxd?.stop());

  it('stores a point written through WriteApi on the v1 /write path and reads it back with InfluxQL', async () => {
    const client = await startInfluxdClient();
    const writeApi = client.createWriteApi({ flushInterval: 0, maxRetries: 0 });
    const ts = Date.UTC(2026, 10, 20, 8, 15, 0, 123); // a millisecond in the timestamp proves precision=ms
    writeApi.writePoint(
      new Point('probe')
        .tag('site', 'hd-campus')
        .tag('device', 'b1_grid')
        .floatField('energy_import_kwh', 12345.67)
        .floatField('power_kw', 12.3)
        .timestamp(new Date(ts)),
    );
    await writeApi.close();

    const series = await client.query(
      `SELECT energy_import_kwh, power_kw FROM probe WHERE site = 'hd-campus' GROUP BY device`,
    );
    expect(series).toEqual([
      {
        name: 'probe',
        tags: { device: 'b1_grid' },
        rows: [{ time: ts, energy_import_kwh: 12345.67, power_kw: 12.3 }],
      },
    ]);
  });

  it('reports an InfluxQL error with the statement', async () => {
    const client = await startInfluxdClient();
    await expect(client.query('SELEC nonsense')).rejects.toThrow(/InfluxQL failed .*SELEC nonsense/);
  });

  function startInfluxdClient() {
    return influxd.client();
  }
});

describe('test harness: MQTT exchange', () => {
  const clients: MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync()));
  });

  async function exchange(url: string): Promise<void> {
    const subscriber = await connectClient(url, { clientId: 'harness-sub' });
    const publisher = await connectClient(url, { clientId: 'harness-pub' });
    clients.push(subscriber, publisher);
    const topic = 'energy/v1/hd-campus/b1_grid/telemetry';
    await subscriber.subscribeAsync(topic, { qos: 1 });
    const received = nextMessage(subscriber, topic);
    const payload = JSON.stringify({ ts: 1763712000000, seq: 42, values: { energy_import_kwh: 12345.67 } });
    await publisher.publishAsync(topic, payload, { qos: 1 });
    const message = await received;
    expect(message.payload.toString('utf8')).toBe(payload);
  }

  it('exchanges a QoS 1 message through the embedded aedes broker', async () => {
    const broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
    try {
      await exchange(`mqtt://127.0.0.1:${broker.port}`);
      expect(broker.connectedClients).toBe(2);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.endAsync()));
      await broker.close();
    }
  });

  describe('with mosquitto', () => {
    let mosquitto: TestMosquitto;
    beforeAll(async () => {
      mosquitto = await startMosquitto();
    });
    afterAll(() => mosquitto?.stop());

    it('exchanges a QoS 1 message through a real mosquitto', async () => {
      await exchange(mosquitto.url);
    });
  });
});
