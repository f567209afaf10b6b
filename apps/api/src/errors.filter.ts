import { Catch, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { PeakWatchError } from '@peakwatch/contracts';

/**
 * The HTTP status of each error code (docs/contracts.md, "Errors"). A code not listed (InfluxDB failing, a migration)
 * is an internal error: Nest's own 500, whose body says nothing of it, logged with its request.
 */
export const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  invalid_device: HttpStatus.BAD_REQUEST,
  foreign_site: HttpStatus.BAD_REQUEST,
  unknown_site: HttpStatus.NOT_FOUND,
  unknown_device: HttpStatus.NOT_FOUND,
  unknown_organisation: HttpStatus.NOT_FOUND,
  unknown_import: HttpStatus.NOT_FOUND,
  // a history import's file that cannot be read, or rows refused without a partial import confirmed
  invalid_import_file: HttpStatus.BAD_REQUEST,
  import_refused: HttpStatus.BAD_REQUEST,
  username_taken: HttpStatus.CONFLICT,
  device_id_taken: HttpStatus.CONFLICT,
  purchase_already_declared: HttpStatus.CONFLICT,
  auth_throttled: HttpStatus.TOO_MANY_REQUESTS,
  // an external broker that could not be updated: nothing was issued or deleted there, try again
  broker_provisioning_failed: HttpStatus.SERVICE_UNAVAILABLE,
};

const REASON: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Maps every PeakWatchError with a status to it, with `{ statusCode, error, code, message, field? }`. */
@Catch(PeakWatchError)
export class PeakWatchErrorFilter extends BaseExceptionFilter {
  override catch(error: PeakWatchError, host: ArgumentsHost): void {
    const status = STATUS_OF_CODE[error.code];
    if (status === undefined) return super.catch(error, host);
    const response = host.switchToHttp().getResponse<Response>();
    if (error.code === 'auth_throttled' && 'retryAfterSeconds' in error)
      response.setHeader('Retry-After', String(error.retryAfterSeconds));
    response.status(status).json({
      statusCode: status,
      error: REASON[status],
      code: error.code,
      message: error.field ? `${error.field}: ${error.message}` : error.message,
      ...(error.field ? { field: error.field } : {}),
    });
  }
}
