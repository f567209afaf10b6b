// What never reaches a log (docs/security.md, "Logs"): credentials in the request context pino attaches to every line
// written during a request, and fields named for a secret wherever they are logged.

export const REDACTED = '[redacted]';

/** pino redaction paths: the request's credential headers, and secret-named fields at the top level or one down. */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-peakwatch-hook-token"]',
  'res.headers["set-cookie"]',
  ...['password', 'secret', 'token', 'apiKey', 'authorization'].flatMap((name) => [name, `*.${name}`]),
];
