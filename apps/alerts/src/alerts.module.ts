import { Module } from '@nestjs/common';
import { IncidentDesk } from './incident-desk';
import { AlertEvaluator } from './alert-evaluator';
import { AlertNotifier } from './alert-notifier';
import { AlertReader } from './alert-reader';
import { OutboxDispatcher } from './outbox-dispatcher';
import { DrRequestListener } from './dr-request-listener';

/**
 * Threshold and data-quality alerts with a persistent notification outbox (issue 8), and the demand-response requests
 * grid operators send over MQTT (announced through the same outbox).
 */
@Module({
  providers: [AlertReader, AlertNotifier, IncidentDesk, AlertEvaluator, OutboxDispatcher, DrRequestListener],
  exports: [AlertEvaluator, OutboxDispatcher],
})
export class AlertsModule {}
