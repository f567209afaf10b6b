import { Module } from '@nestjs/common';
import { BrokerService } from './broker/broker.service';

/** Telemetry ingest: MQTT (embedded aedes or an external broker) to InfluxDB. */
@Module({
  providers: [BrokerService],
  exports: [BrokerService],
})
export class IngestModule {}
