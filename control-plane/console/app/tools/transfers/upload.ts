import { type ControlMessage, encodeFileChunk, FILE_CHUNK_BYTES } from '../../../../../protocol/index.ts';
import type { ChannelMessage, ChannelPort } from '../channel-router.ts';
import { baseName } from '../shared-paths.ts';
import { SendWindow } from './flow-control.ts';
import { Sha256 } from './sha256.ts';
import { Transfer } from './transfer.ts';

/** Bytes read from the file at once when the hash must catch up with a resumed upload. */
const HASH_READ_BYTES = 16 * FILE_CHUNK_BYTES;

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
  #window: SendWindow | undefined;
  #hash = new Sha256();
  #pumping = false;
  /** Something asked for a round while one was running. */
  #pumpAgain = false;
  #ended = false;

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
    this.#window = undefined;
    this.#ended = false;
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
    if (this.common(message)) return;
    if (message.type === 'file-ready') this.#onReady(message.offset);
    else if (message.type === 'file-ack') this.#onAck(message.offset);
    else if (message.type === 'file-done') this.finish({ bytes: this.#file.size });
  }

  #onReady(offset: number): void {
    if (offset > this.#file.size) {
      this.fail('The device asked for a part of the file beyond its end.');
      return;
    }
    this.#window = new SendWindow(this.#file.size, offset);
    this.update({ status: 'running' });
    this.progress(offset, true);
    void this.#pump();
  }

  #onAck(offset: number): void {
    const window = this.#window;
    if (!window) return;
    if (!window.ack(offset)) {
      this.fail('The device acknowledged more than was sent.');
      return;
    }
    this.progress(window.ackedOffset, window.ackedOffset >= this.#file.size);
    void this.#pump();
  }

  /** Sends what the window allows, then `file-end` once everything went out. One runs at a time. */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pumpAgain = false;
    const generation = this.generation;
    try {
      for (;;) {
        const window = this.#window;
        const channel = this.channel;
        if (!window || channel === undefined || generation !== this.generation) return;
        const span = window.next();
        if (!span) break;
        const data = await this.#read(span.offset, span.length);
        if (generation !== this.generation) return;
        await this.#hashUpTo(span.offset, generation);
        if (generation !== this.generation) return;
        if (span.offset === this.#hash.length) this.#hash.update(data);
        this.port.sendFrame(encodeFileChunk({ channel, offset: span.offset, data }));
        window.sent(span.length);
      }
      const window = this.#window;
      if (!window?.allSent || this.#ended || this.channel === undefined) return;
      await this.#hashUpTo(this.#file.size, generation);
      if (generation !== this.generation || this.channel === undefined) return;
      this.#ended = true;
      this.update({ status: 'verifying' });
      this.port.send({
        type: 'file-end',
        channel: this.channel,
        size: this.#file.size,
        sha256: this.#hashHex(),
      });
    } catch (error) {
      if (generation === this.generation) {
        const reason = error instanceof Error ? error.message : String(error);
        this.fail(`The file could not be read here (it may have changed or moved): ${reason}`);
      }
    } finally {
      this.#pumping = false;
    }
    // Acks (or a new channel after a resume) that arrived while this round was reading.
    if (this.#pumpAgain) void this.#pump();
  }

  /** Hashes the file from where the hash stands up to `end`, for a resume that skipped ahead. */
  async #hashUpTo(end: number, generation: number): Promise<void> {
    while (this.#hash.length < end && generation === this.generation) {
      const start = this.#hash.length;
      this.#hash.update(await this.#read(start, Math.min(HASH_READ_BYTES, end - start)));
    }
  }

  #hashHex(): string {
    // The digest finishes the hash; a later retry hashes again from the first byte.
    const hex = this.#hash.hex();
    this.#hash = new Sha256();
    return hex;
  }

  async #read(offset: number, length: number): Promise<Uint8Array> {
    return new Uint8Array(await this.#file.slice(offset, offset + length).arrayBuffer());
  }
}
