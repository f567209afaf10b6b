import { Module } from '@nestjs/common';
import { AlertEvaluator } from './alert-evaluator';
import { OutboxDispatcher } from './outbox-dispatcher';

/** Threshold and data-quality alerts with a persistent notification outbox (issue 8). */
@Module({
  providers: [AlertEvaluator, OutboxDispatcher],
  exports: [AlertEvaluator, OutboxDispatcher],
})
export class AlertsModule {}
