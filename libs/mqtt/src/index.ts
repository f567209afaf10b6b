export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker';
export { ManagedMosquitto } from './managed-mosquitto';
export {
  BrokerProvisioningError,
  DYNSEC_ROLES,
  MosquittoDynsec,
  dynsecInitialConfig,
  type BrokerAccounts,
  type DynsecLogin,
} from './dynsec';
