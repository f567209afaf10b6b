export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker';
export {
  BrokerProvisioningError,
  DYNSEC_ROLES,
  MosquittoDynsec,
  dynsecInitialConfig,
  type BrokerAccounts,
  type DynsecLogin,
} from './dynsec';
