import { Module } from '@nestjs/common';
import { AlertEvaluator } from './alert-evaluator';
import { AlertNotifier } from './alert-notifier';
import { AlertReader } from './alert-reader';
import { OutboxDispatcher } from './outbox-dispatcher';

/** Threshold and data-quality alerts with a persistent notification outbox (issue 8). */
@Module({
  providers: [AlertReader, AlertNotifier, AlertEvaluator, OutboxDispatcher],
  exports: [AlertEvaluator, OutboxDispatcher],
})
export class AlertsModule {}
