import { Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@peakwatch/config';
import { AuditLog } from './audit-log';
import { StateStore } from './state-store';

/** Opens the state store (running migrations) before the app starts, and closes it at shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: StateStore,
      useFactory: (config: AppConfig) => StateStore.open(config.stateStore),
      inject: [APP_CONFIG],
    },
    { provide: AuditLog, useFactory: (store: StateStore) => new AuditLog(store), inject: [StateStore] },
  ],
  exports: [StateStore, AuditLog],
})
export class StateModule implements OnApplicationShutdown {
  constructor(private readonly store: StateStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
