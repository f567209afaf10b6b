import { deliveryId } from './outbox';

describe('deliveryId', () => {
  it('is the same for the same parts, different for others, and shaped as a UUID (version 5, RFC 4122 variant)', () => {
    const a = deliveryId('rule', 'hd-dc1', 1, 'firing', 'webhook', 'https://example.org/hook');
    expect(deliveryId('rule', 'hd-dc1', 1, 'firing', 'webhook', 'https://example.org/hook')).toBe(a);
    expect(deliveryId('rule', 'hd-dc1', 2, 'firing', 'webhook', 'https://example.org/hook')).not.toBe(a);
    // parts are separated: ('ab', 'c') is not ('a', 'bc')
    expect(deliveryId('ab', 'c')).not.toBe(deliveryId('a', 'bc'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
