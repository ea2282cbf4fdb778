import type { FileChunkFrame, MessageOf, ShellDataFrame } from '../../protocol/index.ts';
import { FileReceiver, isTransferError } from '../../protocol/peer/transfer.ts';
import { ChannelFailure } from './channel-failure.ts';
import type { ChannelHandler, ChannelScope, FollowUpMessage } from './channel-scope.ts';
import type { PartFiles } from './part-files.ts';
import type { FileHost, FileWriter } from './ports.ts';
import { normalizeWirePath, parentOf, partPathOf } from './wire-path.ts';

/**
 * An upload (`file-write`): checks the target, answers `file-ready` with the offset to send from (the
 * size of a partial upload beside the target, so an interrupted upload resumes), writes the chunks to
 * `<name>.lifeline-part` acknowledging every FILE_ACK_EVERY_BYTES, and on `file-end` checks size and
 * SHA-256 before renaming the part over the target (`file-done`). A mismatch deletes the part.
 */
export class UploadChannel implements ChannelHandler {
  readonly capability = 'files';
  private readonly path: string;
  private readonly part: string;
  private writer: FileWriter | undefined;
  private claimed = false;
  private closed = false;
  private ending = false;
  /** Checks the chunks and acknowledges them as they are written; there from `file-ready` on. */
  private receiver: FileReceiver | undefined;
  /** Bytes written to the part, counted from its start. */
  private written = 0;
  /** Writes run one after another, in the order the chunks came. */
  private writes: Promise<void> = Promise.resolve();
  private readonly started: Promise<void>;

  constructor(
    private readonly scope: ChannelScope,
    private readonly files: FileHost,
    private readonly parts: PartFiles,
    private readonly request: MessageOf<'file-write'>,
    private readonly onSaved: (size: number) => void,
  ) {
    this.path = normalizeWirePath(request.path);
    this.part = partPathOf(request.path);
    this.started = this.start();
  }

  private async start(): Promise<void> {
    try {
      if (!this.path) throw new ChannelFailure('NOT_A_FILE', 'The shared folder itself is not a file.');
      const target = await this.files.stat(this.path);
      if (target?.type === 'directory') throw new ChannelFailure('NOT_A_FILE', 'A folder has this name.');
      if (target && !this.request.overwrite) {
        throw new ChannelFailure('FILE_EXISTS', 'A file with this name exists; ask to overwrite it.');
      }
      const parent = await this.files.stat(parentOf(this.path));
      if (!parent) throw new ChannelFailure('FILE_NOT_FOUND', 'The folder to upload into does not exist.');
      if (parent.type !== 'directory')
        throw new ChannelFailure('NOT_A_FOLDER', 'The parent is not a folder.');
      if (!this.parts.claim(this.part)) {
        throw new ChannelFailure('CONFLICT', 'Another upload to this file is under way.');
      }
      this.claimed = true;
      const writer = await this.files.openWrite(this.part);
      this.parts.opened(this.part);
      this.writer = writer;
      if (this.closed) return;
      // A part longer than the file is from another upload: start over.
      let offset = writer.size;
      if (offset > this.request.size) {
        await writer.truncate(0);
        offset = 0;
      }
      this.written = offset;
      this.receiver = new FileReceiver({
        link: this.scope,
        channel: this.scope.id,
        start: offset,
        size: this.request.size,
      });
      this.scope.send({ type: 'file-ready', channel: this.scope.id, offset });
    } catch (error) {
      await this.release();
      this.scope.fail(error);
    }
  }

  frame(frame: FileChunkFrame | ShellDataFrame): void {
    if (frame.kind !== 'file' || this.scope.ended || this.ending) return;
    const writer = this.writer;
    const receiver = this.receiver;
    if (!writer || !receiver) {
      void this.abort(new ChannelFailure('MALFORMED', 'A chunk came before file-ready.'));
      return;
    }
    let data: Uint8Array;
    try {
      data = receiver.accept(frame);
    } catch (error) {
      const message = isTransferError(error) ? error.message : 'Unexpected chunk.';
      void this.abort(new ChannelFailure('MALFORMED', message));
      return;
    }
    const offset = frame.offset;
    this.writes = this.writes.then(async () => {
      if (this.scope.ended) return;
      await writer.write(offset, data);
      this.written += data.byteLength;
      receiver.credit(this.written);
    });
    this.writes.catch((error: unknown) => void this.abort(error));
  }

  control(message: FollowUpMessage): void {
    if (message.type === 'file-end' && !this.ending) void this.end(message);
  }

  private async end(message: MessageOf<'file-end'>): Promise<void> {
    this.ending = true;
    try {
      await this.started;
      await this.writes;
      const writer = this.writer;
      if (this.scope.ended || !writer) return;
      const sha256 = await writer.sha256();
      await writer.close();
      this.writer = undefined;
      if (!this.matches(message, sha256)) {
        await this.files.remove(this.part);
        this.parts.forget(this.part);
        throw new ChannelFailure(
          'CHECKSUM_MISMATCH',
          `The upload arrived as ${this.written} bytes that do not match the ${message.size} bytes and SHA-256 the sender announced; it was discarded.`,
        );
      }
      if (!this.request.overwrite && (await this.files.stat(this.path))) {
        throw new ChannelFailure('FILE_EXISTS', 'A file with this name appeared during the upload.');
      }
      await this.files.rename(this.part, this.path, { replace: true });
      this.parts.forget(this.part);
      this.scope.send({
        type: 'file-done',
        channel: this.scope.id,
        path: this.request.path,
        size: message.size,
      });
      this.onSaved(message.size);
      this.scope.end();
    } catch (error) {
      this.scope.fail(error);
    } finally {
      await this.release();
    }
  }

  /** Whether the part is what `file-end` announced: the size asked for, every byte, the same SHA-256. */
  private matches(end: MessageOf<'file-end'>, sha256: string): boolean {
    if (end.size !== this.request.size || this.written !== end.size) return false;
    try {
      this.receiver?.verify(end, sha256);
      return this.receiver !== undefined;
    } catch {
      return false;
    }
  }

  /** Stops after a failure; the part stays for a resume until the session ends. */
  private async abort(error: unknown): Promise<void> {
    this.scope.fail(error);
    await this.release();
  }

  private async release(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    await writer?.close().catch(() => {});
    if (this.claimed) this.parts.release(this.part);
    this.claimed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.started;
    await this.writes.catch(() => {});
    await this.release();
  }
}
