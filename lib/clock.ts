import { performance } from 'node:perf_hooks';

/** Wall time for timestamps and signatures, a monotonic clock for durations. Injected so tests can freeze time. */
export interface Clock {
  now(): Date;
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};
