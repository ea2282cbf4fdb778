import type { ControlMessage } from '../../../../../protocol/index.ts';
import { Sha256 } from '../../../../../protocol/peer/sha256.ts';
import { FileReceiver, isTransferError } from '../../../../../protocol/peer/transfer.ts';
import type { ChannelFrame, ChannelMessage, ChannelPort } from '../operator-channels.ts';
import { baseName } from '../shared-paths.ts';
import { Transfer } from './transfer.ts';

/**
 * Largest download the console takes, in bytes. The file is held in the page until it is
 * complete and verified, then handed to the browser as one Blob.
 */
export const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;

/** Hands a finished download to the browser (a Blob download link in the console). */
export type SaveFile = (blob: Blob, name: string) => void;

/**
 * One file from the shared folder to the operator: `file-read`, then `file-info`, chunks acked
 * every FILE_ACK_EVERY_BYTES, and `file-end` whose SHA-256 covers the whole file. Everything
 * received is kept across a dropped connection, so the next request starts from there.
 * @example
 * const download = new Download(router, 1, 'docs/report.pdf', saveBlob);
 * download.start();
 */
export class Download extends Transfer {
  readonly #save: SaveFile;
  #parts: Uint8Array[] = [];
  /** Everything before this offset arrived and is kept (in #parts, and hashed in #hash). */
  #have = 0;
  #hash = new Sha256();
  /** The receiving side of the current request; a resume makes a new one that continues the hash. */
  #receiver: FileReceiver | undefined;
  /** What `file-info` said the first time; a resume must find the same file. */
  #first: { size: number; modifiedAt: number } | undefined;

  constructor(port: ChannelPort, id: number, path: string, save: SaveFile) {
    super(port, { id, direction: 'download', name: baseName(path), path, size: null });
    this.#save = save;
  }

  protected request(channel: number): ControlMessage {
    const link = { send: (message: ControlMessage) => this.port.send(message), sendBytes: () => {} };
    // Bytes sent again (before the offset asked for) are skipped, as a resume may overlap.
    this.#receiver = new FileReceiver({
      link,
      channel,
      start: this.#have,
      hasher: this.#hash,
      repeats: 'skip',
    });
    return { type: 'file-read', channel, path: this.state.path, offset: this.#have };
  }

  onChannelMessage(message: ChannelMessage): void {
    if (!this.isCurrent(message.channel) || this.common(message)) return;
    if (message.type === 'file-info') this.#onInfo(message.size, message.modifiedAt);
    else if (message.type === 'file-end') this.#onEnd(message.size, message.sha256);
  }

  override onChannelFrame(frame: ChannelFrame): void {
    if (frame.kind !== 'file' || !this.isCurrent(frame.channel)) return;
    const receiver = this.#receiver;
    if (this.state.size === null || !receiver) {
      this.fail('The device sent the file before saying how large it is.');
      return;
    }
    let data: Uint8Array;
    try {
      data = receiver.accept(frame);
    } catch (error) {
      if (isTransferError(error, 'past-end')) {
        this.#reset();
        this.fail('The device sent more than the file holds. Retry to download it again.');
      } else if (isTransferError(error, 'past-window')) {
        this.fail('The device ran past the flow-control window. Retry to continue.');
      } else this.fail('Part of the file went missing on the way. Retry to continue.');
      return;
    }
    if (data.byteLength === 0) return;
    this.#parts.push(data);
    this.#have = receiver.received;
    receiver.credit();
    this.progress(this.#have);
  }

  #onInfo(size: number, modifiedAt: number): void {
    if (size > MAX_DOWNLOAD_BYTES) {
      this.fail(
        `The file is ${Math.round(size / 1024 / 1024)} MiB; the console takes files up to ${
          MAX_DOWNLOAD_BYTES / 1024 / 1024
        } MiB.`,
      );
      return;
    }
    if (this.#first && (this.#first.size !== size || this.#first.modifiedAt !== modifiedAt)) {
      // What arrived so far belongs to another version of the file.
      this.#reset();
      this.fail('The file changed on the device while it was downloading. Retry to download it again.');
      return;
    }
    this.#first = { size, modifiedAt };
    if (this.#receiver) this.#receiver.size = size;
    this.update({ size, status: 'running' });
    this.progress(this.#have, true);
  }

  #onEnd(size: number, sha256: string): void {
    const receiver = this.#receiver;
    if (!receiver || size !== receiver.received || size !== this.state.size) {
      this.fail('The device ended the transfer before the whole file arrived. Retry to continue.');
      return;
    }
    this.update({ status: 'verifying' });
    try {
      receiver.verify({ size, sha256 });
    } catch {
      this.#reset();
      this.fail('The file arrived damaged: its checksum does not match. Retry to download it again.');
      return;
    }
    const blob = new Blob(this.#parts as BlobPart[]);
    this.#parts = [];
    this.finish({ bytes: size });
    this.#save(blob, this.state.name);
  }

  /** Forgets everything received, so the next attempt starts at the first byte. */
  #reset(): void {
    this.#parts = [];
    this.#have = 0;
    this.#hash = new Sha256();
    this.#receiver = undefined;
    this.#first = undefined;
    this.update({ bytes: 0 });
  }
}
