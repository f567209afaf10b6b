import { receiverKey, signature, verifyWebhook, WEBHOOK_TOLERANCE_MS } from './notification';

const SECRET = 'a-webhook-secret-of-32-characters';
const FM = 'https://fm.example/hook';
const REGULATOR = 'https://regulator.example/hook';
const NOW = Date.UTC(2026, 10, 29, 12);
const body = '{"rule":{"id":"dc-pue-rolling-existing"},"state":"firing"}';
const delivery = '0f8e2c1a-1b2c-5d3e-8f40-123456789abc';

/** The headers PeakWatch sends `url` at `atMs`, signed with `key` (its own unless a forger's). */
const headers = (url: string, atMs: number, key = receiverKey(SECRET, url)) => {
  const timestamp = Math.floor(atMs / 1000);
  return {
    'x-peakwatch-timestamp': String(timestamp),
    'x-peakwatch-delivery': delivery,
    'x-peakwatch-signature': signature({ timestamp, delivery, body }, key),
  };
};

describe('webhook signatures', () => {
  it('verify with the receiver own key, over the timestamp, the delivery and the body', () => {
    expect(verifyWebhook(headers(REGULATOR, NOW), body, receiverKey(SECRET, REGULATOR), NOW)).toBe(true);
    // the body or the delivery changed: refused
    expect(
      verifyWebhook(
        headers(REGULATOR, NOW),
        body.replace('firing', 'resolved'),
        receiverKey(SECRET, REGULATOR),
        NOW,
      ),
    ).toBe(false);
    expect(
      verifyWebhook(
        { ...headers(REGULATOR, NOW), 'x-peakwatch-delivery': 'another' },
        body,
        receiverKey(SECRET, REGULATOR),
        NOW,
      ),
    ).toBe(false);
  });

  it("refuses a facility manager's receiver forging the regulator's alert with its own key", () => {
    const forged = headers(REGULATOR, NOW, receiverKey(SECRET, FM));
    expect(verifyWebhook(forged, body, receiverKey(SECRET, REGULATOR), NOW)).toBe(false);
    expect(receiverKey(SECRET, FM)).not.toBe(receiverKey(SECRET, REGULATOR));
  });

  it('refuses a replay older than the tolerance', () => {
    const sent = headers(REGULATOR, NOW);
    expect(verifyWebhook(sent, body, receiverKey(SECRET, REGULATOR), NOW + WEBHOOK_TOLERANCE_MS)).toBe(true);
    expect(verifyWebhook(sent, body, receiverKey(SECRET, REGULATOR), NOW + WEBHOOK_TOLERANCE_MS + 1000)).toBe(
      false,
    );
  });
});
