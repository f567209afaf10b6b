/**
 * `npm run dashboards`: writes the Grafana provisioning and dashboards generated from the code under seeds/grafana
 * (the committed files; a test fails when they differ from what the code generates).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadPolicyData } from '@peakwatch/policy';
import { grafanaFiles } from './provisioning';

const seeds = resolve(process.env['SEEDS_DIR'] ?? join(__dirname, '../../../../seeds'));
for (const [path, content] of grafanaFiles(loadPolicyData(seeds))) {
  const file = join(seeds, 'grafana', path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  process.stdout.write(`${file}\n`);
}
