import type { AppDefinition } from '@peakwatch/runtime';
import { IngestModule } from './ingest.module';

export { IngestModule } from './ingest.module';
export { BrokerService } from './broker/broker.service';
export const INGEST_APP: AppDefinition = { name: 'ingest', module: IngestModule };
