import { REFUSAL_LOG_WINDOW_MS, REFUSALS_LOGGED_PER_WINDOW, RefusalLog } from './refusal-log';

describe('RefusalLog', () => {
  const setUp = () => {
    let nowMs = 1_000_000;
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const log = new RefusalLog(
      { warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) },
      () => nowMs,
    );
    return { log, lines, advance: (ms: number) => (nowMs += ms) };
  };

  it('logs the first refusals of a reason one by one, and the rest of the window as one line', () => {
    const { log, lines, advance } = setUp();
    for (let i = 0; i < 1000; i++)
      log.refused('bad_credentials', { username: `d${i}` }, 'MQTT connection refused: wrong secret');
    log.refused('auth_throttled', { username: 'x' }, 'MQTT connection refused: throttled');
    // 10 of the 1,000, one by one, and the other reason's first
    expect(lines).toHaveLength(REFUSALS_LOGGED_PER_WINDOW + 1);
    expect(lines.slice(0, 10).map((l) => l.fields['username'])).toEqual([
      'd0',
      'd1',
      'd2',
      'd3',
      'd4',
      'd5',
      'd6',
      'd7',
      'd8',
      'd9',
    ]);
    advance(REFUSAL_LOG_WINDOW_MS);
    log.flush();
    expect(lines.at(-1)!.fields).toEqual({ reason: 'bad_credentials', refused: 990, windowSeconds: 10 });
    expect(lines.at(-1)!.message).toBe(
      'MQTT connection refused: wrong secret (990 more in this window, not logged one by one)',
    );
    // a new window logs one by one again
    log.refused('bad_credentials', { username: 'd1000' }, 'MQTT connection refused: wrong secret');
    expect(lines.at(-1)!.fields).toEqual({ username: 'd1000', reason: 'bad_credentials' });
  });

  it('starts a new window by itself when a refusal comes after the window ended', () => {
    const { log, lines, advance } = setUp();
    for (let i = 0; i < 12; i++) log.refused('client_id_taken', { client: `c${i}` }, 'taken');
    advance(REFUSAL_LOG_WINDOW_MS + 1);
    log.refused('client_id_taken', { client: 'c12' }, 'taken');
    // 10 one by one, the summary of 2, then c12 one by one
    expect(lines.map((l) => l.fields['client'] ?? l.fields['refused'])).toEqual([
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
      'c6',
      'c7',
      'c8',
      'c9',
      2,
      'c12',
    ]);
  });

  it('sums the window only once it has ended, however often it is asked to (the broker asks every second)', () => {
    const { log, lines, advance } = setUp();
    for (let i = 0; i < 15; i++) log.refused('bad_credentials', { username: `d${i}` }, 'wrong secret');
    advance(REFUSAL_LOG_WINDOW_MS - 1);
    log.tick();
    expect(lines).toHaveLength(10);
    advance(1);
    log.tick();
    expect(lines.at(-1)!.fields).toEqual({ reason: 'bad_credentials', refused: 5, windowSeconds: 10 });
  });
});
