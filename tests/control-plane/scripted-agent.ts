import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import {
  encodeFileChunk,
  encodeShellData,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type MessageOf,
  NO_PERMISSIONS,
  type Permissions,
  type ResultCode,
  ShellStream,
} from '../../protocol/index.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { connectAgent, type RelayClient } from './relay-client.ts';

const NOTHING: Permissions = { ...NO_PERMISSIONS };

/** What the scripted agent does when an operator joins. */
export type ConsentScript = { accept: Permissions } | 'ask';

interface Download {
  fd: number;
  size: number;
  sent: number;
  acked: number;
  hash: ReturnType<typeof createHash>;
}

interface Upload {
  fd: number;
  /** The path as the API sent it. */
  wirePath: string;
  path: string;
  part: string;
  size: number;
  received: number;
  acked: number;
}

/**
 * A test agent on a real socket that speaks the channel contract (protocol/channels.ts) over a real
 * folder, with real processes for commands. It is the API's counterpart in tests until the real
 * agent can be used, and lets a test make the agent misbehave (hold back acks, corrupt a checksum).
 */
export class ScriptedAgent {
  readonly downloads = new Map<number, Download>();
  readonly uploads = new Map<number, Upload>();
  readonly commands = new Map<number, ChildProcess>();
  /** Every channel the API closed, in order. */
  readonly closedChannels: number[] = [];
  /** Set to make the next download's checksum wrong. */
  corruptNextChecksum = false;
  /** What an operator's permission request gets: everything asked ('grant') or nothing ('refuse'). */
  more: 'grant' | 'refuse' = 'refuse';
  /** What the user allows, as this agent last told the relay (its consent script's answer). */
  permissions: Permissions | undefined;
  private answered = false;

  private constructor(
    readonly client: RelayClient,
    readonly sessionId: string,
    readonly code: string,
    readonly root: string,
    private readonly consent: ConsentScript,
  ) {
    client.onReceived(({ frame }) => {
      if (frame?.kind === 'control') void this.onMessage(frame.message);
      else if (frame?.kind === 'file') this.onChunk(frame.channel, frame.offset, frame.data);
    });
  }

  /** Registers, connects and says hello with `features`. */
  static async start(
    cp: TestControlPlane,
    root: string,
    options: { consent?: ConsentScript; features?: string[] } = {},
  ): Promise<ScriptedAgent> {
    const { agent, registration } = await connectAgent(cp, {
      client: {
        name: 'scripted-agent',
        version: '0.0.0',
        hostname: 'scripted',
        os: 'linux',
        features: options.features ?? ['chat', 'files', 'shell', 'exec'],
      },
    });
    return new ScriptedAgent(
      agent,
      registration.sessionId,
      registration.code,
      root,
      options.consent ?? 'ask',
    );
  }

  private resolvePath(path: string): string | undefined {
    if (path.includes('\0') || path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return undefined;
    const full = resolve(this.root, path);
    return full === this.root || full.startsWith(this.root + sep) ? full : undefined;
  }

  private error(channel: number, code: ResultCode, message: string): void {
    this.client.send({ type: 'channel-error', channel, code, message });
  }

  private async onMessage(message: Parameters<RelayClient['send']>[0]): Promise<void> {
    switch (message.type) {
      case 'operator-joined':
        if (this.consent !== 'ask' && !this.answered) {
          this.answered = true;
          this.permissions = { ...this.consent.accept };
          this.client.send({ type: 'consent', accepted: true, permissions: this.consent.accept });
        }
        return;
      case 'permission-request': {
        // Like the real agent: every request is answered with a permissions message.
        // A consent the test sent itself is unknown here: then only what is granted now is reported.
        const current = { ...(this.permissions ?? NOTHING) };
        if (this.more === 'grant') {
          for (const [capability, wanted] of Object.entries(message.requested)) {
            if (wanted) current[capability as keyof Permissions] = true;
          }
        }
        this.permissions = current;
        this.client.send({ type: 'permissions', permissions: current });
        return;
      }
      case 'exec':
        return this.exec(message);
      case 'file-list':
        return this.list(message);
      case 'file-read':
        return this.read(message);
      case 'file-ack':
        return this.onAck(message.channel, message.offset);
      case 'file-write':
        return this.write(message);
      case 'file-end':
        return this.onEnd(message);
      case 'file-op':
        return this.op(message);
      case 'channel-close': {
        this.closedChannels.push(message.channel);
        const command = this.commands.get(message.channel);
        if (command) killGroup(command);
        this.stopDownload(message.channel);
        this.stopUpload(message.channel);
        return;
      }
      default:
    }
  }

  private exec(message: MessageOf<'exec'>): void {
    const cwd = this.resolvePath(message.cwd ?? '');
    if (!cwd) {
      this.error(message.channel, 'PATH_OUTSIDE_FOLDER', 'The folder is outside the shared folder.');
      return;
    }
    const started = Date.now();
    // Its own process group, so stopping it stops what it started too.
    const child = spawn('/bin/sh', ['-c', message.command], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.commands.set(message.channel, child);
    let output = 0;
    let truncated = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, message.timeoutMs);
    const forward = (stream: number) => (data: Buffer) => {
      output += data.byteLength;
      if (output > message.maxOutputBytes) {
        truncated = true;
        killGroup(child);
      }
      this.client.link.sendFrame(encodeShellData({ channel: message.channel, stream, data }));
    };
    child.stdout!.on('data', forward(ShellStream.stdout));
    child.stderr!.on('data', forward(ShellStream.stderr));
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (!this.commands.delete(message.channel)) return;
      this.client.send({
        type: 'shell-exit',
        channel: message.channel,
        exitCode,
        signal,
        ...(timedOut ? { timedOut } : {}),
        ...(truncated ? { truncated } : {}),
        durationMs: Date.now() - started,
      });
    });
  }

  private async list(message: MessageOf<'file-list'>): Promise<void> {
    const full = this.resolvePath(message.path);
    if (!full)
      return this.error(
        message.channel,
        'PATH_OUTSIDE_FOLDER',
        `"${message.path}" is outside the shared folder.`,
      );
    const names = await readdir(full).catch(() => undefined);
    if (!names) return this.error(message.channel, 'FILE_NOT_FOUND', `"${message.path}" does not exist.`);
    const entries = await Promise.all(
      names.sort().map(async (name) => {
        const info = await stat(join(full, name));
        return {
          name,
          type: info.isDirectory() ? ('directory' as const) : ('file' as const),
          size: info.size,
          modifiedAt: info.mtimeMs,
        };
      }),
    );
    const offset = message.offset ?? 0;
    this.client.send({
      type: 'file-listing',
      channel: message.channel,
      path: message.path,
      root: this.root,
      offset,
      total: entries.length,
      entries: entries.slice(offset, offset + 300),
    });
  }

  private async read(message: MessageOf<'file-read'>): Promise<void> {
    const full = this.resolvePath(message.path);
    if (!full)
      return this.error(
        message.channel,
        'PATH_OUTSIDE_FOLDER',
        `"${message.path}" is outside the shared folder.`,
      );
    const info = await stat(full).catch(() => undefined);
    if (!info) return this.error(message.channel, 'FILE_NOT_FOUND', `"${message.path}" does not exist.`);
    if (!info.isFile()) return this.error(message.channel, 'NOT_A_FILE', `"${message.path}" is not a file.`);
    const hash = createHash('sha256');
    // The checksum covers the whole file, the bytes before a resumed offset included.
    if (message.offset > 0) hash.update((await readFile(full)).subarray(0, message.offset));
    this.downloads.set(message.channel, {
      fd: openSync(full, 'r'),
      size: info.size,
      sent: message.offset,
      acked: message.offset,
      hash,
    });
    this.client.send({
      type: 'file-info',
      channel: message.channel,
      path: message.path,
      size: info.size,
      modifiedAt: info.mtimeMs,
    });
    this.pump(message.channel);
  }

  /** Sends chunks while the window allows, then file-end. */
  private pump(channel: number): void {
    const download = this.downloads.get(channel);
    if (!download) return;
    while (download.sent < download.size && download.sent - download.acked < FILE_WINDOW_BYTES) {
      const length = Math.min(FILE_CHUNK_BYTES, download.size - download.sent);
      const data = Buffer.alloc(length);
      readSync(download.fd, data, 0, length, download.sent);
      download.hash.update(data);
      this.client.link.sendFrame(encodeFileChunk({ channel, offset: download.sent, data }));
      download.sent += length;
    }
    if (download.sent === download.size) {
      let sha256 = download.hash.digest('hex');
      if (this.corruptNextChecksum) {
        this.corruptNextChecksum = false;
        sha256 = sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      }
      this.client.send({ type: 'file-end', channel, size: download.size, sha256 });
      this.stopDownload(channel);
    }
  }

  private onAck(channel: number, offset: number): void {
    const download = this.downloads.get(channel);
    if (!download) return;
    download.acked = Math.max(download.acked, offset);
    this.pump(channel);
  }

  private stopDownload(channel: number): void {
    const download = this.downloads.get(channel);
    if (!download) return;
    closeSync(download.fd);
    this.downloads.delete(channel);
  }

  private async write(message: MessageOf<'file-write'>): Promise<void> {
    const full = this.resolvePath(message.path);
    if (!full || full === this.root)
      return this.error(
        message.channel,
        'PATH_OUTSIDE_FOLDER',
        `"${message.path}" is outside the shared folder.`,
      );
    if (!message.overwrite && (await stat(full).catch(() => undefined))) {
      return this.error(message.channel, 'FILE_EXISTS', `"${message.path}" exists.`);
    }
    const part = `${full}.lifeline-part`;
    const partSize = (await stat(part).catch(() => undefined))?.size ?? 0;
    const offset = partSize <= message.size ? partSize : 0;
    if (offset === 0) await truncate(part).catch(() => {});
    this.uploads.set(message.channel, {
      fd: openSync(part, offset === 0 ? 'w' : 'r+'),
      wirePath: message.path,
      path: full,
      part,
      size: message.size,
      received: offset,
      acked: offset,
    });
    this.client.send({ type: 'file-ready', channel: message.channel, offset });
  }

  private onChunk(channel: number, offset: number, data: Uint8Array): void {
    const upload = this.uploads.get(channel);
    if (!upload || offset !== upload.received) return;
    writeSync(upload.fd, data, 0, data.byteLength, offset);
    upload.received += data.byteLength;
    if (upload.received - upload.acked >= FILE_ACK_EVERY_BYTES || upload.received === upload.size) {
      upload.acked = upload.received;
      this.client.send({ type: 'file-ack', channel, offset: upload.received });
    }
  }

  private async onEnd(message: MessageOf<'file-end'>): Promise<void> {
    const upload = this.uploads.get(message.channel);
    if (!upload) return;
    this.stopUpload(message.channel);
    const sha256 = createHash('sha256')
      .update(await readFile(upload.part))
      .digest('hex');
    if (upload.received !== message.size || sha256 !== message.sha256) {
      await rm(upload.part, { force: true });
      return this.error(message.channel, 'CHECKSUM_MISMATCH', 'The file does not match its checksum.');
    }
    await rename(upload.part, upload.path);
    this.client.send({
      type: 'file-done',
      channel: message.channel,
      path: upload.wirePath,
      size: message.size,
    });
  }

  private stopUpload(channel: number): void {
    const upload = this.uploads.get(channel);
    if (!upload) return;
    closeSync(upload.fd);
    this.uploads.delete(channel);
  }

  private async op(message: MessageOf<'file-op'>): Promise<void> {
    const full = this.resolvePath(message.path);
    const to = message.to === undefined ? undefined : this.resolvePath(message.to);
    if (!full || ((message.op === 'rename' || message.op === 'copy') && !to))
      return this.error(message.channel, 'PATH_OUTSIDE_FOLDER', 'The path is outside the shared folder.');
    try {
      if (message.op === 'mkdir') await mkdir(full);
      else if (message.op === 'delete') await rm(full, { recursive: false });
      else if (message.op === 'copy')
        await cp(full, to!, { recursive: true, errorOnExist: true, force: false });
      else await rename(full, to!);
      this.client.send({ type: 'file-op-done', channel: message.channel });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.error(
        message.channel,
        code === 'ENOENT' ? 'FILE_NOT_FOUND' : code === 'EEXIST' ? 'FILE_EXISTS' : 'IO_ERROR',
        String(error),
      );
    }
  }

  async close(): Promise<void> {
    for (const child of this.commands.values()) killGroup(child);
    for (const channel of [...this.downloads.keys()]) this.stopDownload(channel);
    for (const channel of [...this.uploads.keys()]) this.stopUpload(channel);
    await this.client.close();
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
