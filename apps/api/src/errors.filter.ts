import { Catch, HttpException, HttpStatus, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import { MissingTranslationError, PeakWatchError, translator, type Language } from '@peakwatch/contracts';
import { answerLanguage } from './language';
import { TranslatedHttpException } from './translated.error';

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

/**
 * Maps every PeakWatchError with a status to it, with `{ statusCode, error, code, message, field? }`, the message in
 * the caller's language (`Accept-Language`): in English the error's own, in Chinese the sentence of its code
 * (`api.error` in libs/contracts api-messages.ts) naming its field.
 */
@Catch(PeakWatchError)
export class PeakWatchErrorFilter extends BaseExceptionFilter {
  override catch(error: PeakWatchError, host: ArgumentsHost): void {
    const status = STATUS_OF_CODE[error.code];
    if (status === undefined) return super.catch(error, host);
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const language = answerLanguage(http.getRequest<Request>(), response);
    const retryAfterSeconds =
      error.code === 'auth_throttled' && 'retryAfterSeconds' in error
        ? Number(error.retryAfterSeconds)
        : undefined;
    if (retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(retryAfterSeconds));
    const message =
      language === 'en' && error.message !== ''
        ? error.field
          ? `${error.field}: ${error.message}`
          : error.message
        : translator(language)(`api.error.${error.code}`, {
            ...(error.field ? { context: 'field', field: error.field } : {}),
            ...(retryAfterSeconds === undefined ? {} : { seconds: retryAfterSeconds }),
          });
    response.status(status).json({
      statusCode: status,
      error: REASON[status],
      code: error.code,
      message,
      ...(error.field ? { field: error.field } : {}),
    });
  }
}

/**
 * Nest's HttpExceptions (a guard's 401, 403 and 429, an endpoint's 404, a 400 of parseInput) in the caller's language:
 * the API's own refusals ({@link TranslatedHttpException}) say their text in it; any other (Nest's 404 of an unknown
 * route, a body it cannot parse) keeps its English body, whose message in another language is its status's sentence.
 */
@Catch(HttpException)
export class HttpErrorFilter extends BaseExceptionFilter {
  override catch(exception: HttpException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response | undefined>();
    if (host.getType() !== 'http' || !response || response.headersSent) return super.catch(exception, host);
    const language = answerLanguage(http.getRequest<Request>(), response);
    const status = exception.getStatus();
    response.status(status).json(this.bodyIn(exception, language));
  }

  private bodyIn(exception: HttpException, language: Language): object {
    if (exception instanceof TranslatedHttpException) return exception.bodyIn(language);
    const status = exception.getStatus();
    const own = exception.getResponse();
    const body = typeof own === 'object' ? own : { statusCode: status, message: own };
    if (language === 'en') return body;
    try {
      return { ...body, message: translator(language)(`api.http.status.${status}`) };
    } catch (error) {
      // a status without a sentence (api.http.status) keeps its English body
      if (error instanceof MissingTranslationError) return body;
      throw error;
    }
  }
}
