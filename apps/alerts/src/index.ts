import type { AppDefinition } from '@peakwatch/runtime';
import { AlertsModule } from './alerts.module';

export { AlertsModule } from './alerts.module';
export const ALERTS_APP: AppDefinition = { name: 'alerts', module: AlertsModule };
