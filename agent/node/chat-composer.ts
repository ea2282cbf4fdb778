import { MAX_CHAT_CHARS } from '../../protocol/index.ts';

/** A key as readline reports it. */
export interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  sequence?: string;
}

/** What a key did to the message being written. */
export type ComposeResult = 'typing' | 'send' | 'cancel';

/**
 * The chat message the end user is writing: printable keys add to it, Backspace removes the last
 * character, Enter sends, Escape or Ctrl+C cancels. At most MAX_CHAT_CHARS characters.
 */
export class ChatComposer {
  private text = '';

  get draft(): string {
    return this.text;
  }

  key(key: Key): ComposeResult {
    if (key.name === 'return' || key.name === 'enter') return 'send';
    if (key.name === 'escape' || (key.ctrl && key.name === 'c')) return 'cancel';
    if (key.name === 'backspace') {
      this.text = [...this.text].slice(0, -1).join('');
      return 'typing';
    }
    const sequence = key.sequence ?? '';
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control keys are not text.
    if (key.ctrl || key.meta || !sequence || /[\u0000-\u001f\u007f]/.test(sequence)) return 'typing';
    if (this.text.length + sequence.length <= MAX_CHAT_CHARS) this.text += sequence;
    return 'typing';
  }
}
