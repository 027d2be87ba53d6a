/**
 * The one deadline mechanism: an AbortSignal (`AbortSignal.timeout`, combined with `AbortSignal.any`) passed to
 * what supports it, and `untilAborted` around every await, so the deadline holds even where a library ignores
 * the signal (getaddrinfo, the SDK's credential resolution and retry back-off).
 */

/**
 * Settles with `promise`, or rejects with the signal's reason when it aborts first (then `onAbort` runs, e.g. to
 * cancel a DNS query).
 *
 * @example
 * const signal = AbortSignal.timeout(3000);
 * await untilAborted(client.send(command, { abortSignal: signal }), signal);
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    onAbort?.();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abandon = () => {
      promise.catch(() => {}); // the abandoned call's own rejection is expected, not unhandled
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abandon, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abandon);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', abandon);
        reject(error);
      },
    );
  });
}
