import { Module } from '@nestjs/common';
import { BrokerService } from './broker/broker.service';
import { ExternalSubscriberService } from './broker/external-subscriber.service';
import { IngestMetrics } from './metrics/ingest.metrics';
import { IngestPipeline } from './pipeline/ingest.pipeline';
import { SpoolService } from './spool/spool.service';

/** Telemetry ingest: MQTT (embedded aedes or an external broker) through a durable spool to InfluxDB. */
@Module({
  providers: [IngestMetrics, SpoolService, IngestPipeline, BrokerService, ExternalSubscriberService],
  exports: [BrokerService, SpoolService],
})
export class IngestModule {}
