export {
  MissingBinaryError,
  SERVER_BINARIES,
  requireBinary,
  whichBinary,
  type ServerBinary,
} from './binaries';
export { canConnect, freePort, onFreePorts } from './free-port';
export { ManagedProcess, type ManagedProcessOptions } from './managed-process';
