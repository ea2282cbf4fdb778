import {
  encodeFileChunk,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type MessageOf,
} from '../../protocol/index.ts';
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
  /** Everything before this offset was sent. */
  private sent = 0;
  /** The operator has everything before this offset. */
  private acked = 0;
  private closed = false;
  private wake: (() => void) | undefined;
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
      this.sent = this.acked = this.request.offset;
      while (this.sent < reader.size && !this.closed) {
        if (this.sent - this.acked >= FILE_WINDOW_BYTES) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          continue;
        }
        if (this.scope.uplink.congested()) {
          await this.scope.uplink.drained();
          continue;
        }
        const length = Math.min(
          FILE_CHUNK_BYTES,
          reader.size - this.sent,
          this.acked + FILE_WINDOW_BYTES - this.sent,
        );
        const data = await reader.read(this.sent, length);
        // A file that shrank while it was read ends early; the hash tells the operator.
        if (data.byteLength === 0 || this.closed) break;
        this.scope.sendBytes(encodeFileChunk({ channel: this.scope.id, offset: this.sent, data }));
        this.sent += data.byteLength;
      }
      if (this.closed) return;
      const sha256 = await reader.sha256();
      // A file written to while it was sent (or hashed) is not the file `file-info` announced: a
      // resumed download, whose receiver cannot check the hash, would keep a mix of two versions.
      if ((await reader.currentVersion()) !== reader.version) {
        throw new ChannelFailure('FILE_CHANGED', 'The file changed while it was read; download it again.');
      }
      this.scope.send({ type: 'file-end', channel: this.scope.id, size: this.sent, sha256 });
      this.scope.end();
    } catch (error) {
      this.scope.fail(error);
    } finally {
      await reader?.close().catch(() => {});
    }
  }

  control(message: FollowUpMessage): void {
    if (message.type !== 'file-ack') return;
    // An ack beyond what was sent is a confused peer; it must not widen the window.
    this.acked = Math.max(this.acked, Math.min(message.offset, this.sent));
    this.wake?.();
    this.wake = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.wake = undefined;
    await this.finished;
  }
}
