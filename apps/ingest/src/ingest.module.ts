import { Module } from '@nestjs/common';
import { BrokerService } from './broker/broker.service';
import { ExternalSubscriberService } from './broker/external-subscriber.service';
import { CREDENTIALS_PROVIDER, CredentialsRepository } from './credentials/credentials.repository';
import { IngestMetrics } from './metrics/ingest.metrics';
import { IngestPipeline } from './pipeline/ingest.pipeline';
import { SpoolService } from './spool/spool.service';

/** Telemetry ingest: MQTT (embedded aedes or an external broker) through a durable spool to InfluxDB. */
@Module({
  providers: [
    IngestMetrics,
    SpoolService,
    IngestPipeline,
    CREDENTIALS_PROVIDER,
    BrokerService,
    ExternalSubscriberService,
  ],
  exports: [BrokerService, CredentialsRepository, SpoolService],
})
export class IngestModule {}
