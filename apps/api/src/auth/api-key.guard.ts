import {
  HttpStatus,
  Injectable,
  SetMetadata,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { InjectConfig, type AppConfig } from '@peakwatch/config';
import { ApiTextException } from '../translated.error';
import { ApiKeysRepository, type ApiRole, type Principal } from './api-keys.repository';

const ROLES = 'peakwatch:roles';
/** The roles allowed on an endpoint (every role when absent); scope is checked by the endpoint itself. */
export const Roles = (...roles: ApiRole[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);

type AuthenticatedRequest = Request & { principal?: Principal };

/** The caller of an authenticated endpoint. */
export const Caller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().principal!,
);

/**
 * Authenticates `Authorization: Bearer <API key>` (401 when missing, unknown or revoked), limits each key to
 * API_RATE_LIMIT_PER_MINUTE requests (429 with Retry-After), and checks the endpoint's roles (403).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  /** Fixed one-minute windows per key: start of the window and requests in it. */
  private readonly usage = new Map<string, { since: number; count: number }>();

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly reflector: Reflector,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization ?? '';
    const key = /^Bearer (\S+)$/.exec(header)?.[1];
    if (!key) throw new ApiTextException(HttpStatus.UNAUTHORIZED, 'keyRequired');
    // too many failures: 429 with Retry-After (PeakWatchErrorFilter)
    const principal = await this.keys.verify(key, request.socket.remoteAddress ?? '');
    if (!principal) throw new ApiTextException(HttpStatus.UNAUTHORIZED, 'keyUnknown');
    this.limit(principal.keyId, context.switchToHttp().getResponse<Response>());
    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (roles && !roles.includes(principal.role))
      throw new ApiTextException(HttpStatus.FORBIDDEN, 'roles', { roles: roles.join(', ') });
    request.principal = principal;
    return true;
  }

  private limit(keyId: string, response: Response): void {
    const now = Date.now();
    let usage = this.usage.get(keyId);
    if (!usage || now - usage.since >= 60_000) this.usage.set(keyId, (usage = { since: now, count: 0 }));
    if (++usage.count > this.config.api.rateLimitPerMinute) {
      response.setHeader('Retry-After', String(Math.ceil((usage.since + 60_000 - now) / 1000)));
      throw new ApiTextException(HttpStatus.TOO_MANY_REQUESTS, 'rateLimited');
    }
  }
}
