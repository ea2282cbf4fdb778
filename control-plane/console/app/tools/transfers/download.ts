import type { ControlMessage } from '../../../../../protocol/index.ts';
import type { ChannelFrame, ChannelMessage, ChannelPort } from '../channel-router.ts';
import { baseName } from '../shared-paths.ts';
import { ReceiveWindow } from './flow-control.ts';
import { Sha256 } from './sha256.ts';
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
  #received = new ReceiveWindow(0);
  #hash = new Sha256();
  /** What `file-info` said the first time; a resume must find the same file. */
  #first: { size: number; modifiedAt: number } | undefined;

  constructor(port: ChannelPort, id: number, path: string, save: SaveFile) {
    super(port, { id, direction: 'download', name: baseName(path), path, size: null });
    this.#save = save;
  }

  protected request(channel: number): ControlMessage {
    this.#received.restart(this.#received.receivedOffset);
    return { type: 'file-read', channel, path: this.state.path, offset: this.#received.receivedOffset };
  }

  onChannelMessage(message: ChannelMessage): void {
    if (!this.isCurrent(message.channel) || this.common(message)) return;
    if (message.type === 'file-info') this.#onInfo(message.size, message.modifiedAt);
    else if (message.type === 'file-end') this.#onEnd(message.size, message.sha256);
  }

  override onChannelFrame(frame: ChannelFrame): void {
    if (frame.kind !== 'file' || !this.isCurrent(frame.channel)) return;
    const size = this.state.size;
    if (size === null) {
      this.fail('The device sent the file before saying how large it is.');
      return;
    }
    const verdict = this.#received.accept(frame.offset, frame.data.byteLength);
    if (!verdict.keep) {
      if (verdict.gap) this.fail('Part of the file went missing on the way. Retry to continue.');
      return;
    }
    const data = verdict.skip > 0 ? frame.data.subarray(verdict.skip) : frame.data;
    if (this.#received.receivedOffset > size) {
      this.#reset();
      this.fail('The device sent more than the file holds. Retry to download it again.');
      return;
    }
    this.#parts.push(data);
    this.#hash.update(data);
    if (this.#received.ackDue(size) && this.channel !== undefined) {
      this.port.send({ type: 'file-ack', channel: this.channel, offset: this.#received.acknowledge() });
    }
    this.progress(this.#received.receivedOffset);
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
    this.update({ size, status: 'running' });
    this.progress(this.#received.receivedOffset, true);
  }

  #onEnd(size: number, sha256: string): void {
    if (size !== this.#received.receivedOffset || size !== this.state.size) {
      this.fail('The device ended the transfer before the whole file arrived. Retry to continue.');
      return;
    }
    this.update({ status: 'verifying' });
    if (this.#hash.hex() !== sha256) {
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
    this.#received = new ReceiveWindow(0);
    this.#hash = new Sha256();
    this.#first = undefined;
    this.update({ bytes: 0 });
  }
}
