/**
 * `--interactive`: single keys toggle the sandbox's fault switches. On a terminal the keys act at once (raw
 * mode); from a pipe they arrive as typed, and the end of input quits.
 */
import { emitKeypressEvents } from 'node:readline';
import type { Fault } from '../sandbox/fault-switch.ts';
import type { EndpointName } from '../sandbox/sandbox.ts';

export interface KeyBinding {
  key: string;
  label: string;
  endpoint: EndpointName;
  fault: Fault;
}

export const KEY_BINDINGS: readonly KeyBinding[] = [
  { key: 's', label: 'STS hang', endpoint: 'sts', fault: 'hang' },
  { key: 'a', label: 'STS 403', endpoint: 'sts', fault: 'deny' },
  { key: 'w', label: 'STS slow', endpoint: 'sts', fault: 'slow' },
  { key: 'g', label: 'git 403', endpoint: 'git', fault: 'deny' },
  { key: 'h', label: 'git hang', endpoint: 'git', fault: 'hang' },
  { key: 'd', label: 'DNS silent', endpoint: 'dns', fault: 'hang' },
  { key: 'z', label: 'AZ 1d silent', endpoint: 'git-1d', fault: 'hang' },
  { key: 'p', label: 'pack stall', endpoint: 'git', fault: 'stall' },
];

export const KEY_HELP = [...KEY_BINDINGS.map((b) => `${b.key} ${b.label}`), 'r recover all', 'q quit'].join(' · ');

export type KeyAction = { type: 'toggle'; binding: KeyBinding } | { type: 'recover' } | { type: 'quit' };

export interface KeyInput extends NodeJS.EventEmitter {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
  resume(): unknown;
  pause(): unknown;
}

/**
 * Calls `onAction` for each bound key (Ctrl-C and end of input quit); returns the function that stops listening
 * and gives the terminal back.
 *
 * @example
 * const stop = listenForKeys(process.stdin, (action) => { if (action.type === 'quit') quit(); });
 */
export function listenForKeys(input: KeyInput, onAction: (action: KeyAction) => void): () => void {
  emitKeypressEvents(input as NodeJS.ReadableStream);
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  if (raw) input.setRawMode?.(true);
  const onKeypress = (text: string | undefined, key: { name?: string; ctrl?: boolean } | undefined) => {
    const name = (key?.name ?? text ?? '').toLowerCase();
    if (name === 'q' || (key?.ctrl && name === 'c')) return onAction({ type: 'quit' });
    if (name === 'r') return onAction({ type: 'recover' });
    const binding = KEY_BINDINGS.find((b) => b.key === name);
    if (binding) onAction({ type: 'toggle', binding });
  };
  const onEnd = () => onAction({ type: 'quit' });
  input.on('keypress', onKeypress);
  input.on('end', onEnd);
  input.resume();
  return () => {
    input.off('keypress', onKeypress);
    input.off('end', onEnd);
    if (raw) input.setRawMode?.(false);
    input.pause();
  };
}
