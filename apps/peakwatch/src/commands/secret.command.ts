import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@peakwatch/config';
import { ID_CHARS, isValidId, PeakWatchError, type Language } from '@peakwatch/contracts';
import { receiverKey } from '@peakwatch/alerts';
import { brokerAccountsFor } from '@peakwatch/runtime';
import { CredentialsRepository } from '@peakwatch/state';
import { dynsecInitialConfig } from '@peakwatch/mqtt';
import { loadRegistry } from '@peakwatch/registry';
import { UsageError } from '@peakwatch/runtime';
import { cliText } from '../cli-language';
import { auditFromCli, withStateStore } from './with-state';

/** A device is unknown to the registry: a failure (exit 1), not bad usage. */
export class UnknownDeviceError extends PeakWatchError {
  readonly code = 'unknown_device';
}

/**
 * Runs `work` on the MQTT credentials (and the external broker's accounts, when PeakWatch provisions them), and
 * records `action` on `target` in the audit log.
 */
async function withCredentials<T>(
  work: (credentials: CredentialsRepository) => Promise<T>,
  action: string,
  target: string,
): Promise<T> {
  const accounts = brokerAccountsFor(loadConfig(process.env, process.cwd(), { influx: false }));
  try {
    return await withStateStore(async (store) => {
      const result = await work(new CredentialsRepository(store, accounts));
      await auditFromCli(store, { action, target });
      return result;
    });
  } finally {
    await accounts?.close();
  }
}

/**
 * `peakwatch device secret <siteId> <deviceId>`: issues (or rotates) a device's MQTT secret, stores only its hash,
 * and prints the secret once, alone on the last line of standard output (the line before it in `language`).
 */
export async function deviceSecretCommand(
  siteId: string,
  deviceId: string,
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  for (const [name, id] of [
    ['siteId', siteId],
    ['deviceId', deviceId],
  ] as const) {
    if (!isValidId(id))
      throw new UsageError(t('secret.badId', { name, value: JSON.stringify(id), chars: ID_CHARS }));
  }
  const config = loadConfig(process.env, process.cwd(), { influx: false });
  const registry = loadRegistry(join(config.seedsDir, 'sites'));
  const registered = registry.device(deviceId);
  if (!registered || registered.site.id !== siteId) {
    throw new UnknownDeviceError(
      t('secret.unknownDevice', { device: deviceId, site: siteId, dir: join(config.seedsDir, 'sites') }),
    );
  }
  const secret = await withCredentials(
    (c) => c.issue(deviceId, 'device', siteId),
    'device.secret.issue',
    `${siteId}/${deviceId}`,
  );
  process.stdout.write(`${t('secret.device', { site: siteId, device: deviceId })}\n${secret}\n`);
}

/** `peakwatch service secret <name>`: a secret for one of PeakWatch's own MQTT clients (role `service`). */
export async function serviceSecretCommand(name: string, language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  if (!isValidId(name))
    throw new UsageError(t('secret.badId', { name: 'name', value: JSON.stringify(name), chars: ID_CHARS }));
  const secret = await withCredentials((c) => c.issue(name, 'service', null), 'service.secret.issue', name);
  process.stdout.write(`${t('secret.service', { name })}\n${secret}\n`);
}

/**
 * `peakwatch dr-operator secret <name> <district>`: a secret for a district's grid operator (role `dr_operator`), which
 * may publish demand-response requests on `dr/v1/<district>/` and nothing else (docs/security.md, "Identities").
 */
export async function drOperatorSecretCommand(
  name: string,
  district: string,
  language: Language = 'en',
): Promise<void> {
  const t = cliText(language);
  for (const [what, id] of [
    ['name', name],
    ['district', district],
  ] as const)
    if (!isValidId(id))
      throw new UsageError(t('secret.badId', { name: what, value: JSON.stringify(id), chars: ID_CHARS }));
  if (name.startsWith('peakwatch'))
    throw new UsageError(t('secret.ownName', { value: JSON.stringify(name) }));
  const config = loadConfig(process.env, process.cwd(), { influx: false });
  const districts = new Set(loadRegistry(join(config.seedsDir, 'sites')).sites.map((s) => s.district));
  if (!districts.has(district))
    throw new UsageError(
      t('secret.unknownDistrict', { district, districts: [...districts].sort().join(t('list.names')) }),
    );
  const secret = await withCredentials(
    (c) => c.issue(name, 'dr_operator', district),
    'dr_operator.secret.issue',
    `${district}/${name}`,
  );
  const topic = `dr/v1/${district}/requests`;
  process.stdout.write(`${t('secret.drOperator', { name, district, topic })}\n${secret}\n`);
}

/**
 * `peakwatch webhook key <url>`: the key the receiver at `url` verifies its webhooks with (docs/contracts.md, "Alert
 * notifications"), derived from ALERT_WEBHOOK_SECRET: each receiver gets its own, and none can sign for another.
 */
export function webhookKeyCommand(url: string, language: Language = 'en'): Promise<void> {
  const config = loadConfig(process.env, process.cwd(), { influx: false });
  const secret = config.alerts.webhookSecret;
  if (!secret) throw new UsageError(cliText(language)('secret.noWebhookSecret'));
  process.stdout.write(`${receiverKey(secret, url)}\n`);
  return Promise.resolve();
}

/**
 * `peakwatch broker dynsec-init <file>`: writes the initial configuration of Mosquitto's dynamic security plugin, with
 * the admin client PeakWatch provisions devices through (MQTT_DYNSEC_USERNAME / MQTT_DYNSEC_PASSWORD) and PeakWatch's
 * own client (MQTT_USERNAME / MQTT_PASSWORD), passwords hashed. An existing file is left as it is: mosquitto keeps its
 * clients there.
 */
export function dynsecInitCommand(file: string, language: Language = 'en'): Promise<void> {
  const t = cliText(language);
  const { mqtt } = loadConfig(process.env, process.cwd(), { influx: false });
  const { dynsec, username, password } = mqtt;
  if (!dynsec || !username || !password) throw new UsageError(t('secret.dynsecAccounts'));
  if (existsSync(file)) {
    process.stdout.write(`${t('secret.exists', { file })}\n`);
    return Promise.resolve();
  }
  const config = dynsecInitialConfig(dynsec, { username, password });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  process.stdout.write(`${t('secret.wrote', { file })}\n`);
  return Promise.resolve();
}
