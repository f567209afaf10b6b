import { AuditController } from './audit/audit.controller';
import { EmqxHookController } from './broker/emqx-hook.controller';
import { AlertVisibility } from './alerts/alert-visibility';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { HttpErrorFilter, PeakWatchErrorFilter } from './errors.filter';
import { APP_CONFIG, type AppConfig } from '@peakwatch/config';
import { HistoryImports } from '@peakwatch/history';
import { InfluxClient } from '@peakwatch/influx';
import { PolicyData } from '@peakwatch/policy';
import { Registry } from '@peakwatch/registry';
import { ReportService } from '@peakwatch/reporting';
import { Clock } from '@peakwatch/runtime';
import { StateStore } from '@peakwatch/state';
import { ImportsController } from './imports/imports.controller';
import { DrEventsController } from './dr/dr-events.controller';
import { AlertsController } from './alerts/alerts.controller';
import { ReportsController } from './reports/reports.controller';
import { Access } from './auth/access';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiKeysRepository } from './auth/api-keys.repository';
import { InfoController } from './info/info.controller';
import { ApiKeysController } from './keys/api-keys.controller';
import { KpisController } from './kpis/kpis.controller';
import { SitesController } from './sites/sites.controller';
import { DistrictsController } from './districts/districts.controller';
import { IncidentsController } from './alerts/incidents.controller';
import { StreamController } from './stream/stream.controller';

/** The REST API: registry, device secrets, KPIs, API keys and a live stream per site, with roles and scopes. */
@Module({
  controllers: [
    InfoController,
    SitesController,
    DistrictsController,
    KpisController,
    AlertsController,
    IncidentsController,
    ReportsController,
    ApiKeysController,
    StreamController,
    AuditController,
    EmqxHookController,
    ImportsController,
    DrEventsController,
  ],
  providers: [
    ApiKeysRepository,
    Access,
    AlertVisibility,
    ApiKeyGuard,
    ReportService,
    {
      provide: HistoryImports,
      useFactory: (
        config: AppConfig,
        influx: InfluxClient,
        registry: Registry,
        policy: PolicyData,
        state: StateStore,
        clock: Clock,
        reports: ReportService,
      ) => new HistoryImports({ config, influx, registry, policy, state, clock, reports }),
      inject: [APP_CONFIG, InfluxClient, Registry, PolicyData, StateStore, Clock, ReportService],
    },
    // every PeakWatchError to its HTTP status, in one place; both answer in the caller's language (Accept-Language)
    { provide: APP_FILTER, useClass: PeakWatchErrorFilter },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
  ],
})
export class ApiModule {}
