/** The state of one rule for one entity (DESIGN: inactive, pending, firing, resolved). */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertInstance {
  state: AlertState;
  /** When the current state was entered (ms). */
  sinceMs: number;
  /** Episodes so far: one per firing; notifications are keyed by it (one firing, one resolved per episode). */
  episode: number;
}

/** What one evaluation saw: the value and where it stands against the threshold and the clear threshold. */
export interface Observation {
  /** No usable value (no data, or the data-quality gate held it back): the state is kept as it is. */
  value: number | null;
  /** Beyond the threshold. */
  breached: boolean;
  /** Back on the good side of the clear threshold (hysteresis: between the two, a firing alert keeps firing). */
  cleared: boolean;
}

export const INACTIVE: AlertInstance = { state: 'inactive', sinceMs: 0, episode: 0 };

/**
 * One evaluation step. A breach makes an alert pending; it fires once it has lasted `forMs`; a pending alert whose
 * breach ends goes back to inactive without any notification; a firing alert resolves only once cleared (beyond the
 * clear threshold), so a value flapping around the threshold neither fires nor resolves repeatedly. `notify` is set
 * on the two transitions that notify: `firing` and `resolved`.
 */
export function step(
  current: AlertInstance,
  observation: Observation,
  nowMs: number,
  forMs: number,
): { next: AlertInstance; notify?: 'firing' | 'resolved' } {
  if (observation.value === null) return { next: current };
  const enter = (state: AlertState, episode = current.episode): AlertInstance => ({
    state,
    sinceMs: nowMs,
    episode,
  });
  switch (current.state) {
    case 'inactive':
    case 'resolved':
      if (!observation.breached) return { next: current };
      if (forMs <= 0) return { next: enter('firing', current.episode + 1), notify: 'firing' };
      return { next: enter('pending') };
    case 'pending':
      if (!observation.breached) return { next: enter('inactive') };
      if (nowMs - current.sinceMs >= forMs)
        return { next: enter('firing', current.episode + 1), notify: 'firing' };
      return { next: current };
    case 'firing':
      if (observation.cleared) return { next: enter('resolved'), notify: 'resolved' };
      return { next: current };
  }
}
