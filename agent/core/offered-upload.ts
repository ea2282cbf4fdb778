import type { FileChunkFrame, ShellDataFrame } from '../../protocol/index.ts';
import { ChannelFailure } from './channel-failure.ts';
import type { ChannelHandler, ChannelScope, FollowUpMessage } from './channel-scope.ts';
import type { UploadChannel } from './file-upload.ts';
import type { IncomingFileAnswer } from './ports.ts';

/**
 * An upload the end user is asked about first (phion's "the receiver is always asked"): it tells the
 * operator `file-offered`, waits for the user's answer, and only on acceptance starts the upload, to
 * the path the user chose. A refusal is REFUSED_BY_USER and touches nothing on disk: no part file is
 * opened before the answer. The operator giving up withdraws the question.
 */
export class OfferedUpload implements ChannelHandler {
  readonly capability = 'files';
  private readonly withdrawn = new AbortController();
  private upload: UploadChannel | undefined;
  private readonly answered: Promise<void>;

  constructor(
    scope: ChannelScope,
    ask: (signal: AbortSignal) => Promise<IncomingFileAnswer>,
    start: (path: string) => UploadChannel,
  ) {
    scope.send({ type: 'file-offered', channel: scope.id });
    this.answered = ask(this.withdrawn.signal).then(
      (answer) => {
        if (this.withdrawn.signal.aborted || scope.ended) return;
        if (!answer.accepted) {
          scope.fail(new ChannelFailure('REFUSED_BY_USER', 'The user refused the file.'));
          return;
        }
        this.upload = start(answer.path);
      },
      (error: unknown) => scope.fail(error),
    );
  }

  frame(frame: FileChunkFrame | ShellDataFrame): void {
    this.upload?.frame(frame);
  }

  control(message: FollowUpMessage): void {
    this.upload?.control(message);
  }

  async close(): Promise<void> {
    this.withdrawn.abort();
    await this.answered;
    await this.upload?.close();
  }
}
