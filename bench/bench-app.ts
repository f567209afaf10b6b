import type { INestApplication } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '@peakwatch/config';
import { createApp, type AppDefinition, type Clock } from '@peakwatch/runtime';

/** The apps, started as `peakwatch start` starts them, with their schedules stopped: a bench runs each job itself. */
export async function benchApp(
  config: AppConfig,
  apps: readonly AppDefinition[],
  options: { clock?: Clock } = {},
): Promise<INestApplication> {
  const app = await createApp(config, apps, options);
  const schedules = app.get(SchedulerRegistry);
  for (const job of schedules.getCronJobs().values()) void job.stop();
  for (const name of schedules.getIntervals()) schedules.deleteInterval(name);
  return app;
}
