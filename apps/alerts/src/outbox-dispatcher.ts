import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import mqtt, { type MqttClient } from 'mqtt';
import nodemailer, { type Transporter } from 'nodemailer';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { Clock } from '@peakwatch/runtime';
import { CredentialsRepository, StateStore, type DrAnnouncement } from '@peakwatch/state';
import { receiverKey, signature, type AlertNotification, type IncidentNotification } from './notification';
import { alertMail, drMail, incidentMail } from './notification-text';

/** Backoff after a failed delivery: exponential from 1 s to 5 min. */
const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 300_000;
const POLL_MS = 1_000;
/** How long a claimed delivery is reserved for the dispatcher sending it (ms). */
const CLAIM_MS = 30_000;
const BATCH = 50;
/** The MQTT client of the alerts service (role `service`: it may publish under alerts/v1/). */
export const ALERTS_MQTT_USER = 'peakwatch-alerts';

/**
 * Delivers the outbox: webhooks (POST, signed with ALERT_WEBHOOK_SECRET, `X-PeakWatch-Delivery` as the receiver's
 * idempotency key), e-mails (ALERT_SMTP_URL) and MQTT messages on `alerts/v1/{district}/{siteId}`. A failed delivery is retried with
 * exponential backoff, and nothing later to the same target overtakes it, so a receiver that was down gets every
 * notification once, in order, when it returns. Rows live in the state store, so a restart resumes where it stopped.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutboxDispatcher');
  private running = false;
  private loop: Promise<void> | undefined;
  private client: MqttClient | undefined;
  private wake: (() => void) | undefined;
  private mailer: Transporter | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly state: StateStore,
    private readonly clock: Clock,
    private readonly credentials: CredentialsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.client?.endAsync().catch(() => undefined);
    this.mailer?.close();
  }

  /**
   * Delivers what is due at `nowMs` (the loop calls it every second; tests may call it directly). One pass at a time
   * in a process; across processes sharing the store, each row is claimed (a lease on `next_attempt_at`) before it is
   * sent, so two dispatchers never send the same delivery.
   */
  async deliverDue(nowMs = this.clock.now()): Promise<number> {
    while (this.pass) await this.pass;
    this.pass = this.deliverPass(nowMs).finally(() => (this.pass = undefined));
    return this.pass;
  }

  private pass: Promise<number> | undefined;

  private async deliverPass(nowMs: number): Promise<number> {
    const due = await this.state.db
      .selectFrom('outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .orderBy('created_at')
      .orderBy('delivery_id')
      .limit(BATCH * 4)
      .execute();
    const blocked = new Set<string>();
    let delivered = 0;
    for (const row of due) {
      // per target, in order: a waiting earlier notification holds back the later ones
      if (blocked.has(row.target)) continue;
      if (Date.parse(row.next_attempt_at) > nowMs) {
        blocked.add(row.target);
        continue;
      }
      const claimed = await this.state.db
        .updateTable('outbox')
        .set({ next_attempt_at: new Date(nowMs + CLAIM_MS).toISOString() })
        .where('delivery_id', '=', row.delivery_id)
        .where('next_attempt_at', '=', row.next_attempt_at)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) {
        blocked.add(row.target); // another dispatcher has it
        continue;
      }
      try {
        const receipt =
          row.channel === 'webhook'
            ? await this.post(row.target, row.payload, row.delivery_id)
            : row.channel === 'email'
              ? await this.mail(row.target, row.payload, row.delivery_id)
              : await this.publish(row.target, row.payload);
        await this.state.db
          .updateTable('outbox')
          .set({
            delivered_at: this.clock.iso(),
            attempts: row.attempts + 1,
            last_error: null,
            receipt,
          })
          .where('delivery_id', '=', row.delivery_id)
          .execute();
        delivered++;
      } catch (error) {
        blocked.add(row.target);
        const attempts = row.attempts + 1;
        const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempts - 1));
        await this.state.db
          .updateTable('outbox')
          .set({
            attempts,
            next_attempt_at: new Date(nowMs + backoff).toISOString(),
            last_error: String(error).slice(0, 500),
          })
          .where('delivery_id', '=', row.delivery_id)
          .execute();
        if (attempts === 1)
          this.logger.warn(
            { target: row.target, err: String(error) },
            'notification not delivered; retrying with backoff',
          );
      }
      if (delivered >= BATCH) break;
    }
    return delivered;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.deliverDue().catch((error: unknown) =>
        this.logger.warn({ err: String(error) }, 'outbox pass failed'),
      );
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, POLL_MS).unref();
      });
    }
  }

  /** POSTs a notification; returns the receiver's answer (its receipt), at most 4 kB of it. */
  private async post(url: string, body: string, delivery: string): Promise<string> {
    const secret = this.config.alerts.webhookSecret;
    if (!secret) throw new Error('ALERT_WEBHOOK_SECRET is not set');
    // the wall clock, not the product's Clock: the receiver compares it with its own
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-peakwatch-timestamp': String(timestamp),
        'x-peakwatch-delivery': delivery,
        'x-peakwatch-signature': signature({ timestamp, delivery, body }, receiverKey(secret, url)),
      },
      body,
      // a redirect is not followed: a receiver could point it at an internal address and have its answer kept as
      // a receipt
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    const answer = await response.text().catch(() => '');
    if (response.status >= 300 && response.status < 400)
      throw new Error(`${url} answered ${response.status}: redirects are not followed`);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return answer.slice(0, 4096);
  }

  /** Sends an alert or a demand-response announcement by e-mail (ALERT_SMTP_URL): a plain-text summary, the notification as JSON attached. */
  private async mail(address: string, payload: string, delivery: string): Promise<string> {
    const url = this.config.alerts.smtpUrl;
    if (!url) throw new Error('ALERT_SMTP_URL is not set');
    this.mailer ??= nodemailer.createTransport(url);
    const parsed = JSON.parse(payload) as AlertNotification | IncidentNotification | DrAnnouncement;
    if ('kind' in parsed) {
      // told to the sites' facility managers, in their language
      const info = await this.mailer.sendMail({
        from: this.config.alerts.emailFrom,
        to: address,
        ...drMail(parsed, this.config.alerts.languages.facility_manager),
        headers: { 'X-PeakWatch-Delivery': delivery },
        attachments: [{ filename: 'dr-event.json', content: payload, contentType: 'application/json' }],
      });
      return String(info.messageId);
    }
    const incident = parsed.type === 'incident';
    const info = await this.mailer.sendMail({
      from: this.config.alerts.emailFrom,
      to: address,
      ...(parsed.type === 'incident' ? incidentMail(parsed) : alertMail(parsed)),
      headers: { 'X-PeakWatch-Delivery': delivery },
      attachments: [
        {
          filename: incident ? 'incident.json' : 'alert.json',
          content: payload,
          contentType: 'application/json',
        },
      ],
    });
    return String(info.messageId);
  }

  private async publish(topic: string, payload: string): Promise<null> {
    const client = await this.mqttClient();
    await client.publishAsync(topic, payload, { qos: 1 });
    return null;
  }

  /**
   * Connects as the alerts service client: on an external broker with MQTT_USERNAME/MQTT_PASSWORD; on the embedded
   * one with a service secret issued for this process (only its hash is stored).
   */
  private async mqttClient(): Promise<MqttClient> {
    if (this.client?.connected) return this.client;
    this.client?.end(true);
    const { url, username, password, port } = this.config.mqtt;
    let credentials = { username: username ?? ALERTS_MQTT_USER, password: password ?? '' };
    if (!url)
      credentials = {
        username: ALERTS_MQTT_USER,
        password: await this.credentials.issue(ALERTS_MQTT_USER, 'service', null),
      };
    this.client = await mqtt.connectAsync(url ?? `mqtt://127.0.0.1:${port}`, {
      ...credentials,
      // random: a client id others cannot guess and take over
      clientId: `${ALERTS_MQTT_USER}-${randomUUID()}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    return this.client;
  }
}
