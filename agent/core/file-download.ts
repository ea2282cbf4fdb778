import type { MessageOf } from '../../protocol/index.ts';
import { FileSender } from '../../protocol/peer/transfer.ts';
import { ChannelFailure } from './channel-failure.ts';
import type { ChannelHandler, ChannelScope, FollowUpMessage } from './channel-scope.ts';
import type { FileHost, FileReader } from './ports.ts';
import { normalizeWirePath } from './wire-path.ts';

/**
 * A download (`file-read`): `file-info`, then chunks from the requested offset to the end, never
 * more than FILE_WINDOW_BYTES beyond the operator's last `file-ack` and never while the socket is
 * congested, then `file-end` with the SHA-256 of the whole file (so a resumed download verifies).
 * `file-info` carries the file's version; a file written to before `file-end` fails with FILE_CHANGED.
 */
export class DownloadChannel implements ChannelHandler {
  readonly capability = 'files';
  private sender: FileSender | undefined;
  private closed = false;
  private readonly finished: Promise<void>;

  constructor(
    private readonly scope: ChannelScope,
    private readonly files: FileHost,
    private readonly request: MessageOf<'file-read'>,
  ) {
    this.finished = this.run();
  }

  private async run(): Promise<void> {
    let reader: FileReader | undefined;
    try {
      reader = await this.files.openRead(normalizeWirePath(this.request.path));
      if (this.request.offset > reader.size) {
        throw new ChannelFailure(
          'VALIDATION_FAILED',
          `Offset ${this.request.offset} is past the end of the file (${reader.size} bytes).`,
        );
      }
      this.scope.send({
        type: 'file-info',
        channel: this.scope.id,
        path: this.request.path,
        size: reader.size,
        modifiedAt: reader.modifiedAt,
        version: reader.version,
      });
      // No hasher: the reader hashes the whole file, the part before a resume's offset included.
      const sender = new FileSender({
        link: this.scope,
        channel: this.scope.id,
        size: reader.size,
        start: this.request.offset,
        source: reader,
        congestion: this.scope.uplink,
      });
      this.sender = sender;
      if (this.closed) sender.stop();
      await sender.run();
      if (this.closed) return;
      const sha256 = await reader.sha256();
      // A file written to while it was sent (or hashed) is not the file `file-info` announced: a
      // resumed download, whose receiver cannot check the hash, would keep a mix of two versions.
      if ((await reader.currentVersion()) !== reader.version) {
        throw new ChannelFailure('FILE_CHANGED', 'The file changed while it was read; download it again.');
      }
      sender.end(sha256);
      this.scope.end();
    } catch (error) {
      this.scope.fail(error);
    } finally {
      await reader?.close().catch(() => {});
    }
  }

  control(message: FollowUpMessage): void {
    // An ack beyond what was sent is a confused peer; the sender does not let it widen the window.
    if (message.type === 'file-ack') this.sender?.ack(message.offset);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sender?.stop();
    await this.finished;
  }
}
