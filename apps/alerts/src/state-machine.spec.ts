import { INACTIVE, step, type AlertInstance } from './state-machine';

const MIN = 60_000;
/** PUE against 1.35 with a clear threshold of 1.33 (the rule's hysteresis). */
const observe = (value: number | null) => ({
  value,
  breached: value !== null && value > 1.35,
  cleared: value !== null && value <= 1.33,
});

/** Runs a series of evaluations a minute apart; returns the states and the notifications. */
function run(values: (number | null)[], forMs: number, start: AlertInstance = INACTIVE) {
  let instance = start;
  const states: string[] = [];
  const notifications: string[] = [];
  values.forEach((value, i) => {
    const { next, notify } = step(instance, observe(value), i * MIN, forMs);
    instance = next;
    states.push(next.state);
    if (notify) notifications.push(`${notify}#${next.episode}`);
  });
  return { states, notifications, instance };
}

describe('alert state machine', () => {
  it('fires after the `for` duration, and resolves once cleared', () => {
    const { states, notifications } = run([1.3, 1.4, 1.41, 1.42, 1.4, 1.32, 1.3], 2 * MIN);
    expect(states).toEqual(['inactive', 'pending', 'pending', 'firing', 'firing', 'resolved', 'resolved']);
    expect(notifications).toEqual(['firing#1', 'resolved#1']);
  });

  it('does not fire on a breach shorter than `for`, and says nothing about it', () => {
    const { states, notifications } = run([1.4, 1.36, 1.3, 1.4, 1.3], 3 * MIN);
    expect(states).toEqual(['pending', 'pending', 'inactive', 'pending', 'inactive']);
    expect(notifications).toEqual([]);
  });

  it('keeps firing while the value flaps between the clear threshold and the threshold (hysteresis)', () => {
    const { notifications, instance } = run([1.4, 1.4, 1.34, 1.36, 1.34, 1.36, 1.34], 1 * MIN);
    expect(notifications).toEqual(['firing#1']);
    expect(instance.state).toBe('firing');
  });

  it('starts a new episode for a new breach after resolving', () => {
    const { notifications } = run([1.4, 1.3, 1.4, 1.3], 0);
    expect(notifications).toEqual(['firing#1', 'resolved#1', 'firing#2', 'resolved#2']);
  });

  it('keeps its state when there is no usable value (no data, or held back by the data-quality gate)', () => {
    const firing: AlertInstance = { state: 'firing', sinceMs: 0, episode: 3 };
    const { states, notifications } = run([null, null], 0, firing);
    expect(states).toEqual(['firing', 'firing']);
    expect(notifications).toEqual([]);
  });
});
