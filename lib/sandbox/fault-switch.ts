/**
 * A fault switch: a sandbox server consults its switch on every request, so a scene, a key press or a test
 * changes how the server behaves from the next request on.
 */

/**
 * `hang`: accept, never answer. `deny`: refuse (403 for STS and git, NXDOMAIN for DNS). `slow`: answer late.
 * `stall`: only where the bytes go through the sandbox's addresses (zone-addresses.ts): the first bytes of each
 * answer pass, then nothing (a PMTU blackhole); a server itself answers as usual.
 */
export const FAULTS = ['none', 'hang', 'deny', 'slow', 'stall'] as const;
export type Fault = (typeof FAULTS)[number];

/** How late a `slow` server answers: visible in the waterfall, still inside the demo's deadlines. */
export const SLOW_ANSWER_MS = 600;

interface Holdable {
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export class FaultSwitch {
  fault: Fault = 'none';
  /** Requests held by `hang`, released (destroyed) by `releaseAll`. */
  readonly #held = new Set<Holdable>();
  /** Answers waiting for their time, cancelled by `releaseAll`. */
  readonly #timers = new Set<NodeJS.Timeout>();

  /** `endpoint`: what the switch is for (`dns`, `sts`, …), for a status line. */
  constructor(readonly endpoint = '') {}

  /** Holds a connection open without answering, until the client gives up or the server stops. */
  hold(connection: Holdable): void {
    this.#held.add(connection);
    connection.once('close', () => this.#held.delete(connection));
  }

  /**
   * Runs `answer` after `latencyMs` (a stand-in for the network), SLOW_ANSWER_MS more when the switch says `slow`.
   *
   * @example
   * faults.answer(() => res.end(body), options.latencyMs);
   */
  answer(answer: () => void, latencyMs = 0): void {
    const waitMs = latencyMs + (this.fault === 'slow' ? SLOW_ANSWER_MS : 0);
    if (waitMs <= 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      answer();
    }, waitMs);
    timer.unref();
    this.#timers.add(timer);
  }

  /** Ends every held connection and drops every waiting answer: the server is stopping. */
  releaseAll(): void {
    for (const connection of this.#held) connection.destroy();
    this.#held.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
