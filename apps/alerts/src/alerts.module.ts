import { Module } from '@nestjs/common';

/** Threshold and data-quality alerts with a persistent notification outbox (issue 8). */
@Module({})
export class AlertsModule {}
