import type { ControlMessage } from '../../../../protocol/index.ts';
import { Sha256 } from '../../../../protocol/peer/sha256.ts';
import { FileReceiver, isTransferError } from '../../../../protocol/peer/transfer.ts';
import type { ChannelFrame, ChannelMessage, ChannelPort } from '../operator-channels.ts';
import { type DownloadSink, type FileSaver, SaveRefused, type SaveSlot } from '../saving/file-saver.ts';
import { baseName } from '../shared-paths.ts';
import { Transfer } from './transfer.ts';

/**
 * One file from the shared folder to the operator: `file-read`, then `file-info`, chunks acked
 * every FILE_ACK_EVERY_BYTES once the saver took them, and `file-end` whose SHA-256 covers the
 * whole file. The bytes go to the saver's sink as they arrive (to disk where the browser can
 * stream); everything received is kept across a dropped connection or a pause, so the next
 * request starts from there. A file that arrives damaged aborts the sink: the browser's download
 * fails instead of keeping a wrong file.
 * @example
 * const download = new Download(router, 1, 'docs/report.pdf', streamToDisk());
 * download.start();
 */
export class Download extends Transfer {
  readonly #saver: FileSaver;
  /** The browser's download, begun with the request (inside the operator's click) until `file-info`. */
  #slot: SaveSlot | undefined;
  /** Where the bytes go; opened on the first `file-info`, kept across resumes. */
  #sink: DownloadSink | undefined;
  /** Everything before this offset arrived and went to #sink (and is hashed in #hash). */
  #have = 0;
  #hash = new Sha256();
  /** The receiving side of the current request; a resume makes a new one that continues the hash. */
  #receiver: FileReceiver | undefined;
  /** What `file-info` said the first time; a resume must find the same file. */
  #first: { size: number; modifiedAt: number } | undefined;

  constructor(port: ChannelPort, id: number, path: string, saver: FileSaver) {
    super(port, { id, direction: 'download', name: baseName(path), path, size: null });
    this.#saver = saver;
  }

  protected request(channel: number): ControlMessage {
    if (!this.#sink) this.#slot ??= this.#saver.begin(this.state.name);
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
    if (data.byteLength === 0 || !this.#sink) return;
    this.#sink.write(data);
    this.#have = receiver.received;
    this.#credit();
    this.progress(this.#have);
  }

  /** Acknowledges what the sink took: a slow disk holds the device back instead of filling the page. */
  #credit(): void {
    const sink = this.#sink;
    if (!sink || this.channel === undefined) return;
    this.#receiver?.credit(this.#have - sink.backlog);
  }

  /** A channel that ends before the size arrived leaves no browser download waiting for it. */
  protected override channelGone(): void {
    if (this.#sink) return;
    this.#slot?.cancel();
    this.#slot = undefined;
  }

  override cancel(): void {
    super.cancel();
    this.#discard('Cancelled.');
  }

  override dispose(): void {
    super.dispose();
    this.#discard('Removed from the list.');
  }

  #onInfo(size: number, modifiedAt: number): void {
    if (this.#first && (this.#first.size !== size || this.#first.modifiedAt !== modifiedAt)) {
      // What arrived so far belongs to another version of the file.
      this.#reset();
      this.fail('The file changed on the device while it was downloading. Retry to download it again.');
      return;
    }
    if (!this.#sink) {
      const slot = this.#slot ?? this.#saver.begin(this.state.name);
      this.#slot = undefined;
      try {
        this.#sink = slot.open({
          size,
          taken: () => this.#credit(),
          broken: (reason) => {
            this.#reset();
            this.fail(reason);
          },
        });
      } catch (error) {
        this.fail(
          error instanceof SaveRefused ? error.message : `The file cannot be saved: ${String(error)}`,
        );
        return;
      }
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
    const sink = this.#sink;
    // The channel is done either way; the verdict waits for the browser to take the last bytes.
    this.pause('verifying');
    sink?.close().then(
      () => {
        if (this.#sink !== sink) return; // Cancelled or dismissed meanwhile.
        this.#sink = undefined;
        this.finish({ bytes: size });
      },
      (error: unknown) => {
        if (this.#sink !== sink) return;
        this.#reset();
        this.fail(`The browser could not save the file: ${String(error)}`);
      },
    );
  }

  /** Aborts the sink: whatever the browser saved so far is discarded. */
  #discard(reason: string): void {
    this.#slot?.cancel();
    this.#slot = undefined;
    this.#sink?.abort(reason);
    this.#sink = undefined;
  }

  /** Forgets everything received, so the next attempt starts at the first byte (in a new sink). */
  #reset(): void {
    this.#discard('The download starts again.');
    this.#have = 0;
    this.#hash = new Sha256();
    this.#receiver = undefined;
    this.#first = undefined;
    this.update({ bytes: 0 });
  }
}
