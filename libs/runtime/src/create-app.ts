import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@peakwatch/config';
import { Clock } from './clock';
import { CoreModule, type LogDestination } from './core.module';

/** One runnable app: its name (ingest, analytics, alerts, reports, api) and its feature module. */
export interface AppDefinition {
  name: string;
  module: Type | DynamicModule;
  /** Set-up on the application before it listens (e.g. the API's OpenAPI documents). */
  configure?: (app: INestApplication) => void;
}

/** Largest request body the HTTP server reads (JSON); larger ones get 413. */
export const MAX_REQUEST_BODY = '64kb';

@Module({})
class RootModule {
  static compose(
    config: AppConfig,
    apps: readonly AppDefinition[],
    clock: Clock,
    log: LogDestination | undefined,
  ): DynamicModule {
    return {
      module: RootModule,
      imports: [
        CoreModule.forRoot(
          config,
          apps.map((a) => a.name),
          clock,
          log,
        ),
        ...apps.map((a) => a.module),
      ],
    };
  }
}

/**
 * Builds one process from a set of apps (one app alone, or all of them for the all-in-one process) and starts
 * listening on HTTP_HOST:HTTP_PORT. The caller closes it. `clock` is the system clock except in tests that simulate
 * a period of their choosing; `log` is standard error except in tests that read what is logged.
 */
export async function createApp(
  config: AppConfig,
  apps: readonly AppDefinition[],
  { clock = Clock.system(), log }: { clock?: Clock; log?: LogDestination } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(RootModule.compose(config, apps, clock, log), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.useBodyParser('json', { limit: MAX_REQUEST_BODY });
  for (const definition of apps) definition.configure?.(app);
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    // a start that fails (a port taken, a listener refused) releases what it opened before it throws
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
