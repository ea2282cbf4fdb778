import type { ControlMessage } from '../../../../protocol/index.ts';
import { Sha256 } from '../../../../protocol/peer/sha256.ts';
import { FileSender } from '../../../../protocol/peer/transfer.ts';
import type { ChannelMessage, ChannelPort } from '../operator-channels.ts';
import { baseName } from '../shared-paths.ts';
import { Transfer } from './transfer.ts';

/**
 * One file from the operator's computer into the shared folder: `file-write`, `file-ready` with
 * the offset to send from (a partial upload resumes), chunks within FILE_WINDOW_BYTES of the last
 * `file-ack`, then `file-end` with the SHA-256 of the whole file, hashed as it is read.
 * @example
 * const upload = new Upload(router, 2, file, 'docs/' + file.name);
 * upload.start(); // a FILE_EXISTS answer waits for replace() or cancel()
 */
export class Upload extends Transfer {
  readonly #file: Blob;
  #overwrite = false;
  /** The device asked its user about this file (`file-offered`): the answer is theirs. */
  #offered = false;
  /** The sending side of the current request, from its `file-ready` on. */
  #sender: FileSender | undefined;

  constructor(port: ChannelPort, id: number, file: Blob, path: string) {
    super(port, { id, direction: 'upload', name: baseName(path), path, size: file.size });
    this.#file = file;
  }

  /** Sends the file again with permission to replace the one of the same name. */
  replace(): void {
    if (this.state.status !== 'exists') return;
    this.#overwrite = true;
    this.start();
  }

  protected request(channel: number): ControlMessage {
    this.#stopSender();
    return {
      type: 'file-write',
      channel,
      path: this.state.path,
      size: this.#file.size,
      overwrite: this.#overwrite,
    };
  }

  onChannelMessage(message: ChannelMessage): void {
    if (!this.isCurrent(message.channel)) return;
    if (message.type === 'channel-error' && message.code === 'FILE_EXISTS' && !this.#overwrite) {
      // Not a failure: the operator chooses between replacing it and leaving it.
      this.pause('exists');
      return;
    }
    if (message.type === 'channel-error' && message.code === 'REFUSED_BY_USER') {
      // The user's answer, not a failure to retry.
      this.pause('refused');
      return;
    }
    if (message.type === 'file-offered') {
      this.#offered = true;
      this.update({ status: 'offered' });
      return;
    }
    if (this.common(message)) return;
    if (message.type === 'file-ready') this.#onReady(message.offset);
    else if (message.type === 'file-ack') this.#onAck(message.offset);
    else if (message.type === 'file-done')
      this.finish({ bytes: this.#file.size, acceptedAs: this.#offered ? message.path : null });
  }

  #onReady(offset: number): void {
    const channel = this.channel;
    if (channel === undefined || this.#sender) return;
    if (offset > this.#file.size) {
      this.fail('The device asked for a part of the file beyond its end.');
      return;
    }
    const link = {
      send: (message: ControlMessage) => this.port.send(message),
      sendBytes: (frame: Uint8Array) => this.port.sendFrame(frame),
    };
    const file = this.#file;
    const sender = new FileSender({
      link,
      channel,
      size: file.size,
      start: offset,
      // The part before `offset` is read too: the hash in file-end covers the whole file.
      source: { read: async (at, length) => new Uint8Array(await file.slice(at, at + length).arrayBuffer()) },
      hasher: new Sha256(),
    });
    this.#sender = sender;
    this.update({ status: 'running' });
    this.progress(offset, true);
    void this.#send(sender);
  }

  #onAck(offset: number): void {
    const sender = this.#sender;
    if (!sender) return;
    if (!sender.ack(offset)) {
      this.fail('The device acknowledged more than was sent.');
      return;
    }
    const acked = sender.window.ackedOffset;
    this.progress(acked, acked >= this.#file.size);
  }

  /** Sends the file within the window, then `file-end`; stops when the channel goes. */
  async #send(sender: FileSender): Promise<void> {
    try {
      await sender.run();
      if (sender !== this.#sender) return;
      if (!sender.window.allSent) throw new Error('it ended before its size');
      this.update({ status: 'verifying' });
      sender.end();
    } catch (error) {
      if (sender === this.#sender) {
        const reason = error instanceof Error ? error.message : String(error);
        this.fail(`The file could not be read here (it may have changed or moved): ${reason}`);
      }
    }
  }

  protected override channelGone(): void {
    this.#stopSender();
  }

  #stopSender(): void {
    this.#sender?.stop();
    this.#sender = undefined;
  }
}
