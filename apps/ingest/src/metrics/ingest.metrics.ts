import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REJECT_REASONS } from '../pipeline/reject-reason';

interface SpoolState {
  readonly depth: number;
  readonly bytes: number;
}

/** Prometheus metrics of ingest (GET /metrics). */
@Injectable()
export class IngestMetrics {
  readonly messagesReceived: Counter;
  readonly readingsReceived: Counter;
  readonly readingsStored: Counter;
  readonly rejected: Counter<'reason'>;
  /** Rejections counted but not recorded in `ingest_reject`: over a device's record budget. */
  readonly rejectsUnrecorded: Counter<'reason'>;
  readonly connectionsRefused: Counter<'reason'>;
  /** What the spool gauges report, read at each scrape (set by the spool service). */
  spool: SpoolState | undefined;
  readonly spoolFull: Gauge;
  readonly writeLatency: Histogram;
  readonly connectedClients: Gauge;
  readonly externalConnections: Counter;
  readonly linesDeadLettered: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.messagesReceived = new Counter({
      name: 'peakwatch_ingest_messages_received_total',
      help: 'MQTT messages received on device topics',
      registers,
    });
    this.readingsReceived = new Counter({
      name: 'peakwatch_ingest_readings_received_total',
      help: 'Readings accepted into the spool',
      registers,
    });
    this.readingsStored = new Counter({
      name: 'peakwatch_ingest_lines_stored_total',
      help: 'Lines written to InfluxDB from the spool',
      registers,
    });
    this.rejected = new Counter({
      name: 'peakwatch_ingest_rejected_total',
      help: 'Messages or readings rejected, by reason',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    this.rejectsUnrecorded = new Counter({
      name: 'peakwatch_ingest_rejects_unrecorded_total',
      help: 'Rejections counted but not recorded in ingest_reject: the device was over its budget of records',
      labelNames: ['reason'],
      registers,
    });
    this.connectionsRefused = new Counter({
      name: 'peakwatch_mqtt_connections_refused_total',
      help: 'MQTT connections refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the gauges' collect() is called with the gauge as `this`
    const metrics = this;
    const spoolGauge = (name: string, help: string, value: (spool: SpoolState) => number): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          if (metrics.spool) this.set(value(metrics.spool));
        },
      });
    spoolGauge(
      'peakwatch_ingest_spool_records',
      'Line-protocol records (readings, rejections, late-data marks) in the spool not yet in InfluxDB',
      (spool) => spool.depth,
    );
    spoolGauge(
      'peakwatch_ingest_spool_bytes',
      'Bytes of the spool not yet in InfluxDB',
      (spool) => spool.bytes,
    );
    this.spoolFull = new Gauge({
      name: 'peakwatch_ingest_spool_full',
      help: '1 while the spool is at its disk budget and ingest withholds acknowledgements',
      registers,
    });
    this.writeLatency = new Histogram({
      name: 'peakwatch_ingest_influx_write_seconds',
      help: 'Duration of one write of a spool batch to InfluxDB',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.externalConnections = new Counter({
      name: 'peakwatch_mqtt_external_connections_total',
      help: 'Connections ingest made to the external broker (MQTT_URL): 1, unless it lost one and reconnected',
      registers,
    });
    this.connectedClients = new Gauge({
      name: 'peakwatch_mqtt_connected_clients',
      help: 'Clients connected to the embedded broker',
      registers,
    });
    this.linesDeadLettered = new Counter({
      name: 'peakwatch_ingest_lines_dead_lettered_total',
      help: 'Lines InfluxDB refused as invalid, kept in spool/dead-letter.log',
      registers,
    });
  }
}
