import type { AppDefinition } from '@peakwatch/runtime';
import { AlertsModule } from './alerts.module';

export { AlertsModule } from './alerts.module';
export const ALERTS_APP: AppDefinition = { name: 'alerts', module: AlertsModule };
export { AlertEvaluator } from './alert-evaluator';
export { ALERTS_MQTT_USER, OutboxDispatcher } from './outbox-dispatcher';
export {
  WEBHOOK_TOLERANCE_MS,
  receiverKey,
  signature,
  verifyWebhook,
  type AlertNotification,
  type IncidentNotification,
} from './notification';
export { IncidentDesk } from './incident-desk';
export { INACTIVE, step, type AlertInstance, type AlertState, type Observation } from './state-machine';
