import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import {
  PeakWatchError,
  SERVICE_GRANT,
  deviceGrant,
  drOperatorGrant,
  type MqttRole,
  type TopicGrant,
} from '@peakwatch/contracts';

/**
 * Mosquitto 2's dynamic security plugin (mosquitto_dynamic_security.so), provisioned by PeakWatch: every device and
 * service client PeakWatch issues a secret to becomes a client of the broker, held to the same topics as on the
 * embedded broker (TopicGrant). docs/deployment.md, "External broker", says how it is set up.
 *
 * The plugin is driven by JSON commands published to `$CONTROL/dynamic-security/v1` by a client holding its admin
 * role; it answers on `…/response` with one entry per command, `error` set when it failed (mosquitto's
 * plugins/dynamic-security/README.md).
 */
const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

/** The roles PeakWatch creates. A device's role is named after its site and id (neither can hold ':' or '/'). */
export const DYNSEC_ROLES = {
  admin: 'peakwatch-admin',
  service: 'peakwatch-service',
  device: (siteId: string, deviceId: string) => `peakwatch-device:${siteId}/${deviceId}`,
  /** The grid operators of a district share its role. */
  drOperator: (district: string) => `peakwatch-dr-operator:${district}`,
} as const;

/**
 * The plugin's own password hashing for its configuration file: PBKDF2-HMAC-SHA512, a 12-byte salt, a 64-byte hash
 * (plugins/dynamic-security/auth.c). Clients created through commands get the plugin's default of 101 iterations; the
 * two clients of the initial file, whose passwords an operator chooses, get many more.
 */
const INIT_ITERATIONS = 100_000;

interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern' | 'unsubscribePattern';
  topic: string;
  allow: boolean;
}

/** A grant as the plugin's ACLs: each prefix with `#`; a service's subscriptions shared ones too. */
function aclsOf(grant: TopicGrant, shared: boolean): DynsecAcl[] {
  const subscribe = grant.subscribe.flatMap((p) => (shared ? [`${p}#`, `$share/+/${p}#`] : [`${p}#`]));
  return [
    ...grant.publish.map((p) => ({ acltype: 'publishClientSend' as const, topic: `${p}#`, allow: true })),
    ...subscribe.map((topic) => ({ acltype: 'subscribePattern' as const, topic, allow: true })),
    ...grant.subscribe.map((p) => ({
      acltype: 'publishClientReceive' as const,
      topic: `${p}#`,
      allow: true,
    })),
  ];
}

const ADMIN_ACLS: DynsecAcl[] = (
  ['publishClientSend', 'publishClientReceive', 'subscribePattern'] as const
).map((acltype) => ({ acltype, topic: `${CONTROL_TOPIC}/#`, allow: true }));

export interface DynsecLogin {
  username: string;
  password: string;
}

/**
 * The plugin's initial configuration file (`plugin_opt_config_file`): PeakWatch's admin client (which provisions
 * the others), PeakWatch's own service client (ingest and alerts, MQTT_USERNAME), and nothing allowed by default.
 */
export function dynsecInitialConfig(admin: DynsecLogin, service: DynsecLogin): object {
  const client = ({ username, password }: DynsecLogin, rolename: string): object => {
    const salt = randomBytes(12);
    return {
      username,
      textname: 'PeakWatch',
      password: pbkdf2Sync(password, salt, INIT_ITERATIONS, 64, 'sha512').toString('base64'),
      salt: salt.toString('base64'),
      iterations: INIT_ITERATIONS,
      roles: [{ rolename }],
    };
  };
  return {
    defaultACLAccess: {
      publishClientSend: false,
      publishClientReceive: false,
      subscribe: false,
      unsubscribe: true,
    },
    clients: [client(admin, DYNSEC_ROLES.admin), client(service, DYNSEC_ROLES.service)],
    groups: [],
    roles: [
      { rolename: DYNSEC_ROLES.admin, acls: ADMIN_ACLS },
      { rolename: DYNSEC_ROLES.service, acls: aclsOf(SERVICE_GRANT, true) },
    ],
  };
}

/** The broker refused or did not answer a command; the message names the command, never a password. */
export class BrokerProvisioningError extends PeakWatchError {
  readonly code = 'broker_provisioning_failed';
}

/** Where PeakWatch's MQTT identities are kept on an external broker. */
export interface BrokerAccounts {
  /**
   * Creates the client, or sets its password and role: its old password stops working and its connections close.
   * `scope` is a device's site, a grid operator's district, none for a service.
   */
  put(identity: { username: string; role: MqttRole; scope: string | null }, password: string): Promise<void>;
  /** Deletes the client (closing its connections); nothing when there is none. */
  remove(username: string): Promise<void>;
  close(): Promise<void>;
}

interface Command {
  command: string;
  [field: string]: unknown;
}

/** Mosquitto's dynamic security, reached at `url` as its admin client. Connects on first use. */
export class MosquittoDynsec implements BrokerAccounts {
  private client?: Promise<MqttClient>;
  private readonly waiting = new Map<string, (response: { error?: string }) => void>();

  constructor(
    private readonly url: string,
    private readonly admin: DynsecLogin,
    private readonly timeoutMs = 10_000,
  ) {}

  async put(
    identity: { username: string; role: MqttRole; scope: string | null },
    password: string,
  ): Promise<void> {
    const { username, role, scope } = identity;
    this.refuseAdmin(username);
    let rolename: string = DYNSEC_ROLES.service;
    if (role !== 'service') {
      if (scope === null)
        throw new BrokerProvisioningError(`a ${role} needs its ${role === 'device' ? 'site' : 'district'}`);
      const [name, grant] =
        role === 'device'
          ? [DYNSEC_ROLES.device(scope, username), deviceGrant(scope, username)]
          : [DYNSEC_ROLES.drOperator(scope), drOperatorGrant(scope)];
      rolename = name;
      await this.run({ command: 'createRole', rolename, acls: aclsOf(grant, false) }, [
        'Role already exists',
      ]);
    }
    const roles = [{ rolename }];
    const created = await this.run(
      { command: 'createClient', username, password, textname: 'PeakWatch', roles },
      ['Client already exists'],
    );
    if (!created) await this.run({ command: 'modifyClient', username, password, roles });
  }

  async remove(username: string): Promise<void> {
    this.refuseAdmin(username);
    await this.run({ command: 'deleteClient', username }, ['Client not found']);
  }

  async close(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    this.client = undefined;
    await client?.endAsync(true);
  }

  /** The admin client PeakWatch provisions through is never changed by it (it would lock PeakWatch out). */
  private refuseAdmin(username: string): void {
    if (username === this.admin.username)
      throw new BrokerProvisioningError(
        `${username} is the broker's admin client: PeakWatch does not change it`,
      );
  }

  /**
   * Runs one command: true when done, false when it failed with one of `tolerated`; throws otherwise. A command is
   * sent only over a live connection, never queued for a later one: a password the caller was told had not been set
   * must not be set afterwards.
   */
  private async run(command: Command, tolerated: string[] = []): Promise<boolean> {
    const client = await this.connect();
    if (!client.connected)
      throw new BrokerProvisioningError(`not connected to the broker for ${command.command}`);
    const correlationData = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<{ error?: string }>((resolve, reject) => {
      this.waiting.set(correlationData, resolve);
      timer = setTimeout(() => {
        reject(
          new BrokerProvisioningError(
            `the broker did not answer ${command.command} within ${this.timeoutMs} ms`,
          ),
        );
        // a connection that lost an answer is not trusted with the next command
        void this.close();
      }, this.timeoutMs);
    });
    try {
      client.publish(CONTROL_TOPIC, JSON.stringify({ commands: [{ ...command, correlationData }] }), {
        qos: 1,
      });
      const { error } = await answered;
      if (error === undefined) return true;
      if (tolerated.includes(error)) return false;
      throw new BrokerProvisioningError(`the broker refused ${command.command}: ${error}`);
    } finally {
      clearTimeout(timer);
      this.waiting.delete(correlationData);
    }
  }

  private connect(): Promise<MqttClient> {
    this.client ??= (async () => {
      const client = await mqtt.connectAsync(this.url, {
        ...this.admin,
        clientId: `${this.admin.username}-${randomUUID()}`,
        // no reconnection: a command is never held back to be sent on a later connection (run); the next command
        // connects again
        reconnectPeriod: 0,
        connectTimeout: this.timeoutMs,
      });
      client.on('close', () => {
        if (this.client === connecting) this.client = undefined;
      });
      client.on('message', (topic, payload) => {
        if (topic !== RESPONSE_TOPIC) return;
        for (const { correlationData, ...response } of parseResponses(payload))
          this.waiting.get(correlationData)?.(response);
      });
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
      return client;
    })().catch((error: Error) => {
      this.client = undefined;
      throw new BrokerProvisioningError(
        `cannot reach the broker's dynamic security as its admin: ${error.message}`,
      );
    });
    const connecting = this.client;
    return this.client;
  }
}

/** The answers in a response message that carry a correlation id (others, and malformed messages, are ignored). */
function parseResponses(payload: Buffer): { correlationData: string; error?: string }[] {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { responses?: unknown };
    if (!Array.isArray(parsed.responses)) return [];
    return parsed.responses.flatMap((r: unknown) => {
      const { correlationData, error } = (r ?? {}) as { correlationData?: unknown; error?: unknown };
      if (typeof correlationData !== 'string') return [];
      return [{ correlationData, ...(typeof error === 'string' ? { error } : {}) }];
    });
  } catch {
    return [];
  }
}
