#!/usr/bin/env node
import { runCli } from './cli';

void runCli(process.argv).then((code) => {
  if (code !== undefined) process.exit(code);
});
