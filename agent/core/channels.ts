import {
  type ControlMessage,
  type FileChunkFrame,
  type MessageOf,
  maskCommand,
  type ShellDataFrame,
  slotOf,
} from '../../protocol/index.ts';
import { ChannelFailure } from './channel-failure.ts';
import { type ChannelCapability, type ChannelHandler, ChannelScope } from './channel-scope.ts';
import { CommandChannel } from './command-channel.ts';
import { DownloadChannel } from './file-download.ts';
import { FileOpRequest, ListingRequest } from './file-requests.ts';
import { UploadChannel } from './file-upload.ts';
import { OfferedUpload } from './offered-upload.ts';
import { PartFiles } from './part-files.ts';
import type { CommandHost, FileHost, IncomingFile, IncomingFileAnswer, ShellHost } from './ports.ts';
import { TerminalChannel } from './terminal-channel.ts';
import type { Uplink } from './uplink.ts';
import { displayPath } from './wire-path.ts';

/** What the host offers for channels; each one left out is answered NOT_SUPPORTED. */
export interface ChannelHosts {
  shells?: ShellHost;
  commands?: CommandHost;
  files?: FileHost;
}

/** What the router needs from its session. */
export interface ChannelContext {
  uplink: Uplink;
  /** Whether the end user allows it now: consent accepted, the permission on, within policy and flags. */
  allows(capability: ChannelCapability): boolean;
  /** Tells the end user what an operator does on their computer. */
  report(text: string): void;
  /** The display name of the operator connection with this slot. */
  operatorName(slot: number): string;
  /**
   * Asks the end user about each incoming file, when the session's host decides they are asked
   * (attended sessions whose policy says so); without it files are taken without asking.
   */
  offerFile?(offer: IncomingFile, signal: AbortSignal): Promise<IncomingFileAnswer>;
}

/** Longest command text shown to the end user in one status line, in characters. */
const SHOWN_COMMAND_CHARS = 500;

const NEEDS: Record<ChannelCapability, string> = {
  shell: 'a command shell',
  files: 'file transfer',
};

/**
 * Every channel of a session on the device: opens shells, commands, transfers and listings when the
 * user allows them, passes follow-up messages and frames to the channel they belong to, and closes
 * channels when their operator leaves, a permission is revoked or the session ends.
 */
export class DeviceChannels {
  private readonly open = new Map<number, { scope: ChannelScope; handler: ChannelHandler | undefined }>();
  private readonly parts = new PartFiles();
  /** Frames for channels that are not open (late keystrokes, chunks after a cancel). */
  droppedFrames = 0;

  constructor(
    private readonly hosts: ChannelHosts,
    private readonly context: ChannelContext,
  ) {}

  /** What this host implements, for `hello`'s `client.features`. */
  features(): string[] {
    return [
      ...(this.hosts.files ? ['files'] : []),
      ...(this.hosts.shells ? ['shell'] : []),
      ...(this.hosts.commands ? ['exec'] : []),
    ];
  }

  /** Handles one channel message; false when `message` is not one. */
  handle(message: ControlMessage): boolean {
    const { files, shells, commands } = this.hosts;
    switch (message.type) {
      case 'shell-open':
        this.start(
          message.channel,
          'shell',
          shells,
          (scope, host) => new TerminalChannel(scope, host, message, (text) => this.context.report(text)),
        );
        return true;
      case 'exec':
        this.start(message.channel, 'shell', commands, (scope, host) => {
          // The status line is on the screen, which is shared and may be recorded: secrets masked.
          this.context.report(`${scope.operator} runs a command: ${shorten(maskCommand(message.command))}`);
          return new CommandChannel(scope, host, message);
        });
        return true;
      case 'file-list':
        this.start(message.channel, 'files', files, (scope, host) => {
          if (!message.offset)
            this.context.report(
              `${scope.operator} looks at the folder ${displayPath(host.root, message.path)}`,
            );
          return new ListingRequest(scope, host, message);
        });
        return true;
      case 'file-read':
        this.start(message.channel, 'files', files, (scope, host) => {
          this.context.report(`${scope.operator} downloads ${displayPath(host.root, message.path)}`);
          return new DownloadChannel(scope, host, message);
        });
        return true;
      case 'file-write':
        this.start(message.channel, 'files', files, (scope, host) => {
          const upload = (path: string) => {
            const where = displayPath(host.root, path);
            return new UploadChannel(scope, host, this.parts, { ...message, path }, () =>
              this.context.report(`${scope.operator} saved ${where}`),
            );
          };
          const offer = this.context.offerFile;
          if (!offer) {
            const where = displayPath(host.root, message.path);
            this.context.report(`${scope.operator} uploads ${where} (${formatBytes(message.size)})`);
            return upload(message.path);
          }
          const incoming = {
            operator: scope.operator,
            path: message.path,
            size: message.size,
            root: host.root,
          };
          return new OfferedUpload(scope, (signal) => offer(incoming, signal), upload);
        });
        return true;
      case 'file-op':
        this.start(message.channel, 'files', files, (scope, host) => {
          this.context.report(`${scope.operator} ${describeOp(host.root, message)}`);
          return new FileOpRequest(scope, host, message);
        });
        return true;
      case 'shell-resize':
      case 'file-ack':
      case 'file-end':
        this.open.get(message.channel)?.handler?.control?.(message);
        return true;
      case 'channel-close':
        void this.closeWhere((id) => id === message.channel);
        return true;
      default:
        return false;
    }
  }

  /** Keystrokes for a shell or a chunk of an upload. */
  frame(frame: FileChunkFrame | ShellDataFrame): void {
    const handler = this.open.get(frame.channel)?.handler;
    if (handler?.frame) handler.frame(frame);
    else this.droppedFrames++;
  }

  /**
   * The user revoked a permission: every channel that needs it is closed and its operator told
   * CAPABILITY_NOT_ALLOWED. Shells and commands are killed, transfers stop.
   */
  async revoke(capability: ChannelCapability): Promise<void> {
    const failure = new ChannelFailure('CAPABILITY_NOT_ALLOWED', `The user turned off ${NEEDS[capability]}.`);
    const stopped = await this.closeWhere((_id, handler) => handler?.capability === capability, failure);
    if (stopped > 0) {
      const what = capability === 'shell' ? 'shell or command' : 'file transfer';
      this.context.report(
        `You turned off ${NEEDS[capability]}: stopped ${stopped} ${what}${stopped > 1 ? 's' : ''}.`,
      );
    }
  }

  /** An operator connection left: its channels close (an upload's part stays for a resume). */
  async closeSlot(slot: number): Promise<void> {
    await this.closeWhere((id) => slotOf(id) === slot);
  }

  /** Closes every channel quietly; returns their ids. */
  async closeAll(): Promise<number[]> {
    const ids = [...this.open.keys()];
    await this.closeWhere(() => true);
    return ids;
  }

  /** The session is over: everything is closed and the part files of unfinished uploads deleted. */
  async finish(): Promise<string[]> {
    await this.closeAll();
    return this.hosts.files ? this.parts.removeAll(this.hosts.files) : [];
  }

  private start<Host>(
    channel: number,
    capability: ChannelCapability,
    host: Host | undefined,
    create: (scope: ChannelScope, host: Host) => ChannelHandler,
  ): void {
    const operator = this.context.operatorName(slotOf(channel));
    const scope = new ChannelScope(
      channel,
      operator,
      this.context.uplink,
      (ended) => {
        if (this.open.get(ended.id)?.scope === ended) this.open.delete(ended.id);
      },
      (code) => {
        // The line before this one named the path as asked: say that nothing outside was touched.
        if (code === 'PATH_OUTSIDE_FOLDER')
          this.context.report(`Refused: ${operator} asked for a path outside the shared folder.`);
      },
    );
    if (!host) {
      scope.fail(new ChannelFailure('NOT_SUPPORTED', `This agent does not offer ${NEEDS[capability]}.`));
      return;
    }
    if (!this.context.allows(capability)) {
      this.context.report(`Refused: ${operator} asked for ${NEEDS[capability]}, which you have not allowed.`);
      scope.fail(
        new ChannelFailure('CAPABILITY_NOT_ALLOWED', `The user has not allowed ${NEEDS[capability]}.`),
      );
      return;
    }
    if (this.open.has(channel)) {
      scope.fail(new ChannelFailure('CHANNEL_IN_USE', `Channel ${channel} is already open.`));
      return;
    }
    const entry: { scope: ChannelScope; handler: ChannelHandler | undefined } = { scope, handler: undefined };
    this.open.set(channel, entry);
    entry.handler = create(scope, host);
  }

  private async closeWhere(
    match: (id: number, handler: ChannelHandler | undefined) => boolean,
    failure?: ChannelFailure,
  ): Promise<number> {
    const closing: Promise<void>[] = [];
    for (const [id, { scope, handler }] of [...this.open]) {
      if (!match(id, handler)) continue;
      if (failure) scope.fail(failure);
      else scope.end();
      this.open.delete(id);
      if (handler) closing.push(handler.close().catch(() => {}));
    }
    await Promise.all(closing);
    return closing.length;
  }
}

function shorten(text: string): string {
  return text.length > SHOWN_COMMAND_CHARS ? `${text.slice(0, SHOWN_COMMAND_CHARS)}…` : text;
}

function describeOp(root: string, request: MessageOf<'file-op'>): string {
  const path = displayPath(root, request.path);
  if (request.op === 'mkdir') return `creates the folder ${path}`;
  if (request.op === 'delete') return `deletes ${path}`;
  if (request.op === 'copy') return `copies ${path} to ${displayPath(root, request.to ?? '')}`;
  return `renames ${path} to ${displayPath(root, request.to ?? '')}`;
}

/** A byte count as people read it: 512 B, 1.5 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
