/**
 * Fault switches: each sandbox endpoint consults its switch on every request, so a scene (or a key press)
 * changes how an endpoint behaves from the next request on.
 */

/** `hang`: accept, never answer. `deny`: refuse (403 for STS and git, NXDOMAIN for DNS). `slow`: answer late. */
export const FAULTS = ['none', 'hang', 'deny', 'slow'] as const;
export type Fault = (typeof FAULTS)[number];

/** The sandbox's endpoints, each with its own switch. `sts-global` stands in for sts.amazonaws.com. */
export const ENDPOINT_NAMES = ['dns', 'sts', 'sts-global', 'git'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

/** How late a `slow` endpoint answers: visible in the waterfall, still inside the demo's deadlines. */
export const SLOW_ANSWER_MS = 600;

export class FaultSwitch {
  fault: Fault = 'none';
  /** Requests held by `hang`; released (destroyed) when the sandbox stops. */
  readonly #held = new Set<{ destroy(): unknown }>();

  constructor(readonly endpoint: EndpointName) {}

  /** Holds a connection open without answering, until the client gives up or the sandbox stops. */
  hold(connection: { destroy(): unknown; once(event: 'close', listener: () => void): unknown }): void {
    this.#held.add(connection);
    connection.once('close', () => this.#held.delete(connection));
  }

  /** Runs `answer` now, or after SLOW_ANSWER_MS when the switch says `slow`. */
  answer(answer: () => void): void {
    if (this.fault === 'slow') setTimeout(answer, SLOW_ANSWER_MS).unref();
    else answer();
  }

  releaseAll(): void {
    for (const connection of this.#held) connection.destroy();
    this.#held.clear();
  }
}

export type FaultSwitches = Record<EndpointName, FaultSwitch>;

export const createFaultSwitches = (): FaultSwitches =>
  Object.fromEntries(ENDPOINT_NAMES.map((name) => [name, new FaultSwitch(name)])) as FaultSwitches;

/** Sets every switch: the named faults, `none` for the rest (a scene describes the whole state, not a change). */
export function setFaults(switches: FaultSwitches, faults: Partial<Record<EndpointName, Fault>>): void {
  for (const name of ENDPOINT_NAMES) switches[name].fault = faults[name] ?? 'none';
}
