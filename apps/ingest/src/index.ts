import type { AppDefinition } from '@peakwatch/runtime';
import { IngestModule } from './ingest.module';

export { IngestModule } from './ingest.module';
export { BrokerService } from './broker/broker.service';
export { INGEST_SUBSCRIPTIONS, SHARE_GROUP } from './broker/external-subscriber.service';
export { REJECT_REASONS, type RejectReason } from './pipeline/reject-reason';
export { REJECT_RECORD_BURST, REJECT_RECORDS_PER_MINUTE } from './pipeline/ingest.pipeline';
export { SpoolService } from './spool/spool.service';
export { PlatformMonitor } from './platform-monitor';
export { Spool, type AppendCallback } from './spool/spool';
export const INGEST_APP: AppDefinition = { name: 'ingest', module: IngestModule };
