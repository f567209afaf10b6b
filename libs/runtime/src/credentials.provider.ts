import type { Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@peakwatch/config';
import { MosquittoDynsec, type BrokerAccounts } from '@peakwatch/mqtt';
import { CredentialsRepository, StateStore } from '@peakwatch/state';

/** The external broker's accounts PeakWatch provisions (Mosquitto dynamic security), when configured. */
export function brokerAccountsFor(config: AppConfig): BrokerAccounts | undefined {
  const { url, dynsec } = config.mqtt;
  return url && dynsec ? new MosquittoDynsec(url, dynsec) : undefined;
}

/**
 * One CredentialsRepository per process, whichever apps it runs (ingest verifies, the API issues, the alerts service
 * issues its own), with the external broker's accounts when the configuration has them.
 */
export const CREDENTIALS_PROVIDER: Provider = {
  provide: CredentialsRepository,
  useFactory: (state: StateStore, config: AppConfig) =>
    new CredentialsRepository(state, brokerAccountsFor(config)),
  inject: [StateStore, APP_CONFIG],
};
