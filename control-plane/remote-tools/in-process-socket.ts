import type { LinkSocket } from '../../protocol/index.ts';

type Listener = (event: { data: unknown } & { code: number }) => void;

const OPEN = 1;
const CLOSED = 3;

/**
 * A {@link LinkSocket} for a participant inside the relay's process (the HTTP API): what the relay
 * sends to the participant's peer is `deliver`ed to the link, what the link sends goes to `toRelay`.
 * It is open from the start, and closes once, from either side.
 */
export class InProcessSocket implements LinkSocket {
  readyState = OPEN;
  binaryType = 'arraybuffer';
  readonly #listeners = new Map<string, Listener[]>();

  constructor(
    private readonly toRelay: (bytes: Uint8Array) => void,
    private readonly onClose: () => void,
  ) {}

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: Uint8Array): void {
    if (this.readyState === OPEN) this.toRelay(data);
  }

  /** The participant's side closes: the relay is told, then the link. */
  close(code = 1000): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.onClose();
    this.#emit('close', { data: undefined, code });
  }

  /** The relay sent the participant a frame. */
  deliver(bytes: Uint8Array): void {
    if (this.readyState === OPEN) this.#emit('message', { data: bytes, code: 0 });
  }

  #emit(type: string, event: { data: unknown; code: number }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}
