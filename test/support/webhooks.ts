import { createServer, type Server } from 'node:http';
import { receiverKey, verifyWebhook } from '@peakwatch/alerts';
import { freePort } from '@peakwatch/process';

/** A webhook as the test receiver got it. */
export interface Received<B> {
  path: string;
  delivery: string;
  signatureOk: boolean;
  body: B;
}

export interface TestReceiver<B> {
  url: string;
  got: Received<B>[];
  /** Answer 503 (and record nothing) while set. */
  down: boolean;
  close(): Promise<void>;
}

/**
 * A real HTTP receiver of PeakWatch's webhooks on a free loopback port: it records each one with whether its
 * signature verifies as a receiver checks it (its own key for its URL, derived from `secret`; the timestamp fresh).
 */
export async function startReceiver<B>(secret: string): Promise<TestReceiver<B>> {
  const state = { got: [] as Received<B>[], down: false };
  let base = '';
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (state.down) {
        res.writeHead(503).end();
        return;
      }
      state.got.push({
        path: req.url!,
        delivery: String(req.headers['x-peakwatch-delivery']),
        signatureOk: verifyWebhook(req.headers, body, receiverKey(secret, `${base}${req.url}`), Date.now()),
        body: JSON.parse(body) as B,
      });
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${port}`;
  return Object.assign(state, {
    url: base,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
