import { SingleRun } from './single-run';

describe('SingleRun', () => {
  it('skips a tick while the previous run is going, and reports a failure instead of throwing', async () => {
    const errors: unknown[] = [];
    const single = new SingleRun((error) => errors.push(error));
    let runs = 0;
    let release!: () => void;
    const slow = single.run(() => {
      runs++;
      return new Promise<void>((resolve) => (release = resolve));
    });
    await single.run(() => Promise.resolve(void runs++)); // skipped: the first run has not ended
    release();
    await slow;
    await single.run(() => Promise.reject(new Error('boom')));
    await single.run(() => Promise.resolve(void runs++)); // runs again after a failure
    expect(runs).toBe(2);
    expect(errors.map(String)).toEqual(['Error: boom']);
  });
});
