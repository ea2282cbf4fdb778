import { maskCommand } from '../../protocol/index.ts';
import type { AuditEntry } from '../audit/audit-log.ts';
import type { AgentChannelMessage, OperatorChannelMessage } from './channel-router.ts';
import type { LiveSession, OperatorSide } from './live-session.ts';

/** Longest command line kept in a `background_access_shell` event, in characters. */
const MAX_LINE_CHARS = 2000;
/**
 * Most command lines of one terminal audited one by one per {@link BURST_MS}; past that (a paste),
 * each frame's further lines are one event with their number, so a pasted megabyte (16 frames)
 * costs a few dozen writes, not thousands.
 */
const MAX_LINES_PER_BURST = 20;
/** The window {@link MAX_LINES_PER_BURST} counts in, in milliseconds. */
const BURST_MS = 1000;

type Record = (
  session: LiveSession,
  side: OperatorSide,
  action: string,
  details: AuditEntry['details'],
) => void;

/** A file request waiting for its outcome. */
interface FileRequest {
  operation: 'list' | 'download' | 'upload' | 'mkdir' | 'delete' | 'rename' | 'copy';
  path: string;
  to?: string;
}

/** What is being typed into one terminal: the line so far, its full length, and escapes to skip. */
interface TypedLine {
  text: string;
  length: number;
  /** Inside an escape sequence (arrow keys and the like): skipped, not part of the line. */
  escape: boolean;
  /** Keys the shell interprets itself (arrows, Tab) were pressed: the line may differ from `text`. */
  edited: boolean;
  /** When the current burst began (ms since the epoch), and how many lines it audited. */
  burstAt: number;
  burstLines: number;
}

/**
 * JumpCloud's audit kinds for background-access sessions (README, "Background access"):
 * `background_access_shell` for each command line (an `exec`, or a line typed into a terminal and
 * ended with Enter, masked with protocol/mask-command.ts) and `background_access_file` for each file
 * operation with its path and its result (`ok`, a result code, or `cancelled`). A typed line is what
 * the keys spelled, with Backspace, Ctrl+U and Ctrl+C applied; cursor movement and completion are
 * the shell's own and are not replayed, so such a line is marked `edited`. One instance per session
 * (channel ids are a session's own).
 */
export class BackgroundAudit {
  private readonly files = new Map<number, FileRequest>();
  private readonly typing = new Map<number, TypedLine>();

  constructor(private readonly record: Record) {}

  /** An operator's channel request, passed to the agent. */
  request(session: LiveSession, side: OperatorSide, message: OperatorChannelMessage): void {
    switch (message.type) {
      case 'exec':
        this.shellLine(session, side, message.channel, message.command, { via: 'exec' });
        return;
      case 'file-list':
        this.files.set(message.channel, { operation: 'list', path: message.path });
        return;
      case 'file-read':
        this.files.set(message.channel, { operation: 'download', path: message.path });
        return;
      case 'file-write':
        this.files.set(message.channel, { operation: 'upload', path: message.path });
        return;
      case 'file-op':
        this.files.set(message.channel, {
          operation: message.op,
          path: message.path,
          ...(message.to !== undefined ? { to: message.to } : {}),
        });
        return;
      case 'channel-close':
        this.settleFile(session, side, message.channel, 'cancelled');
        this.typing.delete(message.channel);
        return;
      default:
    }
  }

  /** The agent's answer on a channel: the end of a file operation, or its failure. */
  answer(session: LiveSession, side: OperatorSide, message: AgentChannelMessage): void {
    switch (message.type) {
      case 'file-listing':
      case 'file-end':
      case 'file-done':
      case 'file-op-done':
        this.settleFile(session, side, message.channel, 'ok');
        return;
      case 'channel-error':
        this.settleFile(session, side, message.channel, message.code, message.message);
        return;
      case 'channel-close':
      case 'shell-exit':
        this.settleFile(session, side, message.channel, 'cancelled');
        this.typing.delete(message.channel);
        return;
      default:
    }
  }

  /** Keystrokes (or a paste) an operator sends to a terminal. */
  keystrokes(session: LiveSession, side: OperatorSide, channel: number, data: Uint8Array): void {
    const line = this.typing.get(channel) ?? {
      text: '',
      length: 0,
      escape: false,
      edited: false,
      burstAt: 0,
      burstLines: 0,
    };
    this.typing.set(channel, line);
    const text = new TextDecoder().decode(data);
    const now = Date.now();
    if (now - line.burstAt >= BURST_MS) {
      line.burstAt = now;
      line.burstLines = 0;
    }
    let skipped = 0;
    const finish = () => {
      if (line.length > 0 || line.edited) {
        if (line.burstLines < MAX_LINES_PER_BURST) {
          line.burstLines++;
          this.shellLine(session, side, channel, line.text, {
            via: 'terminal',
            ...(line.length > line.text.length ? { length: line.length } : {}),
            ...(line.edited ? { edited: true } : {}),
          });
        } else skipped++;
      }
      line.text = '';
      line.length = 0;
      line.edited = false;
    };
    for (const ch of text) {
      if (line.escape) {
        // CSI sequences end with a letter or ~; a lone ESC plus one character ends there too.
        if (/[A-Za-z~]/.test(ch)) line.escape = false;
        continue;
      }
      if (ch === '\r' || ch === '\n') finish();
      else if (ch === '\x1b') {
        line.escape = true;
        line.edited = true;
      } else if (ch === '\t') line.edited = true;
      else if (ch === '\x7f' || ch === '\b') {
        line.text = line.text.slice(0, -1);
        line.length = Math.max(0, line.length - 1);
      } else if (ch === '\x03' || ch === '\x15') {
        line.text = '';
        line.length = 0;
        line.edited = false;
      } else if (ch >= ' ') {
        line.length++;
        if (line.text.length < MAX_LINE_CHARS) line.text += ch;
      }
    }
    if (skipped > 0)
      this.record(session, side, 'background_access_shell', {
        channel,
        via: 'terminal',
        linesNotListed: skipped,
      });
  }

  private shellLine(
    session: LiveSession,
    side: OperatorSide,
    channel: number,
    line: string,
    extra: { via: 'exec' | 'terminal'; length?: number; edited?: boolean },
  ): void {
    // Masked before it is cut, so a cut cannot part a secret from the option that marks it.
    const masked = maskCommand(line);
    this.record(session, side, 'background_access_shell', {
      channel,
      command: masked.slice(0, MAX_LINE_CHARS),
      ...extra,
    });
  }

  private settleFile(
    session: LiveSession,
    side: OperatorSide,
    channel: number,
    result: string,
    message?: string,
  ): void {
    const request = this.files.get(channel);
    if (!request) return;
    this.files.delete(channel);
    this.record(session, side, 'background_access_file', {
      ...request,
      result,
      ...(message !== undefined ? { message: message.slice(0, 500) } : {}),
    });
  }
}
