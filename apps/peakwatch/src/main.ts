#!/usr/bin/env node
import { runCli } from './cli';

// What PeakWatch writes (DATA_DIR: the state store, the spool, reports, the demo's InfluxDB data) is for its own user
// only: directories 0700, files 0600 (docs/security.md).
process.umask(0o077);

void runCli(process.argv).then((code) => {
  if (code !== undefined) process.exit(code);
});
