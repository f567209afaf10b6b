import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  HttpStatus,
  Logger,
  NotFoundException,
  Post,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { z } from 'zod';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { grantCovers, unshared } from '@peakwatch/contracts';
import { CredentialsRepository, grantOf } from '@peakwatch/state';
import { Registry } from '@peakwatch/registry';
import { AuthThrottledError } from '@peakwatch/state';
import { parseInput } from '../validation';
import { ApiTextException } from '../translated.error';

/** EMQX 5's answer format: HTTP 200 with `result` (allow, deny or ignore); PeakWatch never makes a superuser. */
type HookAnswer = { result: 'allow' | 'deny'; is_superuser?: false };
const ALLOW: HookAnswer = { result: 'allow', is_superuser: false };
const DENY: HookAnswer = { result: 'deny' };

const text = z.string().max(65_535);
/** The bodies docs/contracts.md tells EMQX to send (its `${…}` placeholders); other fields EMQX may add are ignored. */
const authenticateSchema = z.object({ username: text, password: text, clientid: text, peerhost: text });
const authorizeSchema = z.object({
  username: text,
  clientid: text,
  topic: text,
  action: z.enum(['publish', 'subscribe']),
});

/** Sessions remembered (client id → the secret version it logged in with); the oldest are forgotten beyond this. */
const MAX_SESSIONS = 100_000;

/**
 * EMQX's HTTP authentication and HTTP authorization, answered from PeakWatch's own credentials and topic grants, so
 * that an EMQX cluster holds each device to its own topics as the embedded broker does (docs/contracts.md, "External
 * brokers"). EMQX calls these for every connection and every publish or subscription it has not cached; they are
 * not part of the API callers use (no API key; EMQX sends the shared BROKER_HOOK_TOKEN instead).
 */
@ApiExcludeController()
@Controller('api/v1/broker/emqx')
export class EmqxHookController {
  private readonly logger = new Logger(EmqxHookController.name);
  private readonly tokenDigest?: Buffer;
  /** The secret each client id logged in with here, so that a rotation or deletion ends what it may do. */
  private readonly sessions = new Map<string, { username: string; secretVersion: string }>();

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly credentials: CredentialsRepository,
    private readonly registry: Registry,
  ) {
    const token = config.api.brokerHookToken;
    if (token) this.tokenDigest = digest(token);
  }

  /** Connect: the username's secret checked (and throttled) as on the embedded broker; a removed device is denied. */
  @Post('authenticate')
  @HttpCode(200)
  async authenticate(
    @Headers('x-peakwatch-hook-token') token: unknown,
    @Body() body: unknown,
  ): Promise<HookAnswer> {
    this.checkToken(token);
    const { username, password, clientid, peerhost } = parseInput(authenticateSchema, body, 'body');
    let identity;
    try {
      identity = await this.credentials.verify(username, password, peerhost);
    } catch (error) {
      if (!(error instanceof AuthThrottledError)) throw error;
      this.logger.warn({ username, peerhost }, 'EMQX connection denied: too many failed authentications');
      return DENY;
    }
    if (identity?.role === 'device' && clientid.startsWith('peakwatch')) {
      // the client ids of PeakWatch's own clients: a device taking one would knock that client offline
      this.logger.warn({ username, clientid, peerhost }, "EMQX connection denied: a PeakWatch client's id");
      return DENY;
    }
    if (identity && grantOf(identity, this.registry)) {
      this.sessions.delete(clientid);
      this.sessions.set(clientid, { username, secretVersion: identity.secretVersion });
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
      return ALLOW;
    }
    this.logger.warn({ username, peerhost }, 'EMQX connection denied: unknown user or wrong secret');
    return DENY;
  }

  /** Publish or subscribe: allowed only within the identity's grant, and only while its secret stands. */
  @Post('authorize')
  @HttpCode(200)
  async authorize(
    @Headers('x-peakwatch-hook-token') token: unknown,
    @Body() body: unknown,
  ): Promise<HookAnswer> {
    this.checkToken(token);
    const { username, clientid, topic, action } = parseInput(authorizeSchema, body, 'body');
    const identity = await this.credentials.identity(username);
    const grant = identity && grantOf(identity, this.registry);
    if (!grant) return DENY;
    // a session that logged in here with a secret since rotated or deleted may do nothing more (deny_action =
    // disconnect then ends it); one that logged in elsewhere (another replica, before a restart) is judged by its grant
    const session = this.sessions.get(clientid);
    if (session?.username === username && session.secretVersion !== identity.secretVersion) return DENY;
    const allowed =
      action === 'publish'
        ? grantCovers(grant.publish, topic)
        : grantCovers(grant.subscribe, unshared(topic));
    return allowed ? ALLOW : DENY;
  }

  /** 404 when no token is configured (there is no hook), 401 for a wrong or missing one. */
  private checkToken(token: unknown): void {
    if (!this.tokenDigest) throw new NotFoundException();
    if (typeof token !== 'string' || !timingSafeEqual(digest(token), this.tokenDigest)) {
      this.logger.warn('EMQX hook called without the right X-PeakWatch-Hook-Token');
      throw new ApiTextException(HttpStatus.UNAUTHORIZED, 'hookToken');
    }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
