import { MAX_CLIPBOARD_CHARS, type MessageOf } from '../../../protocol/index.ts';
import { Store } from './store.ts';

export interface ClipboardState {
  /** The last text copied on the device, or null before any arrived. */
  fromDevice: string | null;
  /** When it arrived, in ms since the epoch. */
  fromDeviceAt: number | null;
  /** Length of the last text the operator put on the device's clipboard, once it left. */
  sentLength: number | null;
  /** Why the last copy, either way, did not go through. */
  error: string | null;
}

/** Why {@link ClipboardController.send} refused a text before it left. */
export type ClipboardSendRefusal = 'empty' | 'too-long' | 'offline';

const count = new Intl.NumberFormat('en-US');

/**
 * Clipboard text with the device: sends the operator's text to the device's clipboard and keeps the
 * last text copied on the device. The agent watches its clipboard only while the user allows it.
 * @example
 * clipboard.send('ssh admin@10.0.0.2');
 * clipboard.receive(message); // the device's copy, from the relay
 */
export class ClipboardController extends Store<ClipboardState> {
  readonly #send: (message: MessageOf<'clipboard'>) => boolean;

  constructor(send: (message: MessageOf<'clipboard'>) => boolean) {
    super({ fromDevice: null, fromDeviceAt: null, sentLength: null, error: null });
    this.#send = send;
  }

  /** Puts `text` on the device's clipboard; returns why it was refused, or null once it is on its way. */
  send(text: string): ClipboardSendRefusal | null {
    if (text === '') return 'empty';
    if (text.length > MAX_CLIPBOARD_CHARS) {
      this.update({
        error: `The text has ${count.format(text.length)} characters; at most ${count.format(MAX_CLIPBOARD_CHARS)} can go to the device's clipboard.`,
      });
      return 'too-long';
    }
    if (!this.#send({ type: 'clipboard', text })) {
      this.update({ error: 'Not connected to the relay; the text was not sent.' });
      return 'offline';
    }
    this.update({ sentLength: text.length, error: null });
    return null;
  }

  /** The device's clipboard changed (or held more than can be shared). */
  receive(message: MessageOf<'clipboard'>): void {
    if (message.tooLong !== undefined) {
      this.update({
        error: `The user copied ${count.format(message.tooLong)} characters; only ${count.format(MAX_CLIPBOARD_CHARS)} can be shared, so it was not sent.`,
      });
      return;
    }
    this.update({ fromDevice: message.text, fromDeviceAt: Date.now(), error: null });
  }

  /** The relay refused the operator's text (the user has not allowed the clipboard). */
  refused(reason: string): void {
    this.update({ sentLength: null, error: reason });
  }

  clearError(): void {
    if (this.state.error) this.update({ error: null });
  }
}
