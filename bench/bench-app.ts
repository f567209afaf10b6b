import type { INestApplication } from '@nestjs/common';
import type { AppConfig } from '@peakwatch/config';
import { createApp, stopSchedules, type AppDefinition, type Clock } from '@peakwatch/runtime';

/** The apps, started as `peakwatch start` starts them, with their schedules stopped: a bench runs each job itself. */
export async function benchApp(
  config: AppConfig,
  apps: readonly AppDefinition[],
  options: { clock?: Clock } = {},
): Promise<INestApplication> {
  const app = await createApp(config, apps, options);
  stopSchedules(app);
  return app;
}
