import { deviceTopic, isValidId, parseDeviceTopic } from './topics';

describe('device topics', () => {
  it('builds the topic of the MQTT contract', () => {
    expect(deviceTopic('hd-campus', 'b1_grid', 'telemetry')).toBe('energy/v1/hd-campus/b1_grid/telemetry');
  });

  it.each([
    [
      'energy/v1/hd-campus/b1_grid/telemetry',
      { siteId: 'hd-campus', deviceId: 'b1_grid', channel: 'telemetry' },
    ],
    ['energy/v1/s/d/status', { siteId: 's', deviceId: 'd', channel: 'status' }],
    ['energy/v1/s/d/event', { siteId: 's', deviceId: 'd', channel: 'event' }],
  ])('parses %s', (topic, expected) => {
    expect(parseDeviceTopic(topic)).toEqual(expected);
  });

  it.each([
    'energy/v2/s/d/telemetry', // wrong version
    'energy/v1/s/d', // too short
    'energy/v1/s/d/telemetry/x', // too long
    'energy/v1/S/d/telemetry', // uppercase id
    'energy/v1/_s/d/telemetry', // id must start with a letter or digit
    'energy/v1/s/d/metrics', // unknown channel
    'energy/v1/+/d/telemetry', // wildcard is not an id
  ])('refuses %s', (topic) => {
    expect(parseDeviceTopic(topic)).toBeUndefined();
  });

  it('limits ids to 64 characters', () => {
    expect(isValidId('a'.repeat(64))).toBe(true);
    expect(isValidId('a'.repeat(65))).toBe(false);
  });
});
