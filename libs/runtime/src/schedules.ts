import type { INestApplication } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

/**
 * Stops an app's own schedules (the hourly report run, the minute's alert evaluation, the KPI job), for a test or a
 * bench that runs each job itself, on its own clock, and must not meet them at a real minute.
 */
export function stopSchedules(app: INestApplication): void {
  const schedules = app.get(SchedulerRegistry);
  for (const job of schedules.getCronJobs().values()) void job.stop();
  for (const name of schedules.getIntervals()) schedules.deleteInterval(name);
}
