import { Module } from '@nestjs/common';
import { BrokerService } from './broker/broker.service';
import { ExternalSubscriberService } from './broker/external-subscriber.service';
import { IngestMetrics } from './metrics/ingest.metrics';
import { IngestPipeline } from './pipeline/ingest.pipeline';
import { SpoolService } from './spool/spool.service';
import { PlatformMonitor } from './platform-monitor';

/** Telemetry ingest: MQTT (embedded aedes or an external broker) through a durable spool to InfluxDB. */
@Module({
  providers: [
    IngestMetrics,
    SpoolService,
    IngestPipeline,
    BrokerService,
    ExternalSubscriberService,
    PlatformMonitor,
  ],
  exports: [BrokerService, SpoolService, PlatformMonitor],
})
export class IngestModule {}
