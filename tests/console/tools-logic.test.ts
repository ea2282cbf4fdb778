import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AccessRequests } from '../../console/app/tools/access-requests.ts';
import { channelErrorText } from '../../console/app/tools/channel-errors.ts';
import { ChatController } from '../../console/app/tools/chat-controller.ts';
import { FileBrowser } from '../../console/app/tools/file-browser.ts';
import { OperatorChannels } from '../../console/app/tools/operator-channels.ts';
import { saveInMemory } from '../../console/app/tools/saving/file-saver.ts';
import { SessionTools } from '../../console/app/tools/session-tools.ts';
import {
  breadcrumbs,
  invalidNameReason,
  joinPath,
  parentPath,
  rootLabel,
} from '../../console/app/tools/shared-paths.ts';
import { TerminalSession } from '../../console/app/tools/terminal-session.ts';
import { TOO_FREQUENT_PAUSE_MS } from '../../console/app/tools/too-frequent.ts';
import { Download } from '../../console/app/tools/transfers/download.ts';
import type { TransferState } from '../../console/app/tools/transfers/transfer.ts';
import { etaSeconds, TransferMeter } from '../../console/app/tools/transfers/transfer-meter.ts';
import { transferLine } from '../../console/app/tools/transfers/transfer-text.ts';
import { Upload } from '../../console/app/tools/transfers/upload.ts';
import {
  type ControlMessage,
  decodeFrame,
  encodeFileChunk,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  type FileChunkFrame,
  MAX_SHELL_BYTES,
  type MessageOf,
  type ShellDataFrame,
  slotOf,
} from '../../protocol/index.ts';
import { ReceiveWindow, SendWindow } from '../../protocol/peer/flow-control.ts';
import { Sha256 } from '../../protocol/peer/sha256.ts';
import { permissionsWith } from '../support/permissions.ts';
import { waitFor } from '../support/processes.ts';

// The console's transfer, chat and terminal logic without a browser: the real OperatorChannels over
// a link that records what would go to the relay.

const SLOT = 42;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A router attached to a recording link, as the session controller attaches it after `welcome`. */
function wire(requestTimeoutMs?: number) {
  const sent: ControlMessage[] = [];
  const frames: Array<FileChunkFrame | ShellDataFrame> = [];
  const router = new OperatorChannels(requestTimeoutMs);
  router.attach({
    slot: SLOT,
    send: (message) => {
      sent.push(message);
      return true;
    },
    sendFrame: (bytes) => {
      const result = decodeFrame(bytes);
      assert.ok(result.ok && (result.frame.kind === 'file' || result.frame.kind === 'shell'));
      frames.push(result.frame as FileChunkFrame | ShellDataFrame);
      return true;
    },
  });
  const last = <T extends ControlMessage['type']>(type: T) =>
    sent.filter((message): message is MessageOf<T> => message.type === type).at(-1);
  return { router, sent, frames, last };
}

/** Lets queued promise callbacks (file reads in an upload) run. */
async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('SendWindow', () => {
  it('never lets more than the window run ahead of the last acknowledgement', () => {
    const window = new SendWindow(5 * FILE_WINDOW_BYTES, 0);
    let sent = 0;
    for (let span = window.next(); span; span = window.next()) {
      assert.ok(span.length <= FILE_CHUNK_BYTES);
      window.sent(span.length);
      sent += span.length;
    }
    assert.equal(sent, FILE_WINDOW_BYTES);
    assert.equal(window.ack(300_000), true);
    const more = window.next();
    assert.deepEqual(more, { offset: FILE_WINDOW_BYTES, length: FILE_CHUNK_BYTES });
  });

  it('starts at the offset the receiver already has and ends exactly at the size', () => {
    const window = new SendWindow(1_000_000, 900_000);
    const spans = [];
    for (let span = window.next(); span; span = window.next()) {
      spans.push(span);
      window.sent(span.length);
    }
    assert.equal(spans[0]?.offset, 900_000);
    assert.equal(
      spans.reduce((total, span) => total + span.length, 0),
      100_000,
    );
    assert.equal(window.allSent, true);
  });

  it('refuses an acknowledgement past what was sent and ignores one that goes backwards', () => {
    const window = new SendWindow(1000, 0);
    window.sent(500);
    assert.equal(window.ack(600), false);
    assert.equal(window.ack(400), true);
    assert.equal(window.ack(100), true);
    assert.equal(window.ackedOffset, 400);
  });
});

describe('ReceiveWindow', () => {
  it('acknowledges every FILE_ACK_EVERY_BYTES and once everything arrived', () => {
    const received = new ReceiveWindow(0);
    const size = FILE_ACK_EVERY_BYTES + 1000;
    const acks: number[] = [];
    for (let offset = 0; offset < size; offset += 1024) {
      received.accept(offset, Math.min(1024, size - offset));
      if (received.ackDue(size)) acks.push(received.acknowledge());
    }
    assert.deepEqual(acks, [FILE_ACK_EVERY_BYTES, size]);
  });

  it('keeps only the new part of a chunk sent again and reports a gap', () => {
    const received = new ReceiveWindow(100);
    assert.deepEqual(received.accept(50, 100), { keep: true, skip: 50 });
    assert.equal(received.receivedOffset, 150);
    assert.deepEqual(received.accept(0, 100), { keep: false, gap: false });
    assert.deepEqual(received.accept(200, 10), { keep: false, gap: true });
  });
});

describe('TransferMeter and etaSeconds', () => {
  it('measures the rate over its window and estimates the time left', () => {
    const meter = new TransferMeter(5000);
    assert.equal(meter.rate(0), null);
    for (let second = 0; second <= 10; second++) meter.record(second * 2_000_000, second * 1000);
    assert.equal(meter.rate(10_000), 2_000_000);
    assert.equal(etaSeconds(10_000_000, meter.rate(10_000)), 5);
  });

  it('has no estimate while the rate is unknown or zero, and none needed when done', () => {
    assert.equal(etaSeconds(100, null), null);
    assert.equal(etaSeconds(100, 0), null);
    assert.equal(etaSeconds(0, null), 0);
  });

  it('starts over when the total goes down (an upload resumed from a shorter part)', () => {
    const meter = new TransferMeter();
    meter.record(5_000_000, 0);
    meter.record(1_000_000, 1000);
    meter.record(2_000_000, 2000);
    assert.equal(meter.rate(2000), 1_000_000);
  });
});

describe('Sha256', () => {
  it('matches node:crypto for every length around the block boundaries, fed in uneven pieces', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_000]) {
      const data = randomBytes(length);
      const hash = new Sha256();
      for (let at = 0; at < length; at += 1 + (at % 97)) hash.update(data.subarray(at, at + 1 + (at % 97)));
      assert.equal(hash.hex(), sha256(data), `length ${length}`);
    }
  });
});

describe('shared paths and refusals', () => {
  it('joins, splits and lists breadcrumbs of shared paths', () => {
    assert.equal(joinPath('', 'a.txt'), 'a.txt');
    assert.equal(joinPath('docs', 'a.txt'), 'docs/a.txt');
    assert.equal(parentPath('docs/2024/a.txt'), 'docs/2024');
    assert.equal(parentPath('a.txt'), '');
    assert.deepEqual(breadcrumbs('docs/2024', 'bob'), [
      { name: 'bob', path: '' },
      { name: 'docs', path: 'docs' },
      { name: '2024', path: 'docs/2024' },
    ]);
  });

  it('shows the roots of an agent sharing every drive by their paths, and other names as they are', () => {
    assert.equal(rootLabel('%2F'), '/');
    assert.equal(rootLabel('%2Fmedia%2FMy%20Disk'), '/media/My Disk');
    assert.equal(rootLabel('C%3A%5C'), 'C:\\');
    assert.equal(rootLabel('report%20final.pdf'), 'report%20final.pdf');
    assert.deepEqual(breadcrumbs('%2Fhome/ada', 'device'), [
      { name: 'device', path: '' },
      { name: '/home', path: '%2Fhome' },
      { name: 'ada', path: '%2Fhome/ada' },
    ]);
  });

  it('refuses names that would leave the folder or mean nothing', () => {
    assert.equal(invalidNameReason('report.pdf'), null);
    assert.match(invalidNameReason('../x') ?? '', /cannot contain/);
    assert.match(invalidNameReason('..') ?? '', /reserved/);
    assert.match(invalidNameReason('  ') ?? '', /Type a name/);
  });

  it('words channel errors for the operator', () => {
    assert.equal(
      channelErrorText({ code: 'PATH_OUTSIDE_FOLDER', message: 'x' }, 'files'),
      'That path is outside the folder the user shares.',
    );
    assert.equal(
      channelErrorText({ code: 'CAPABILITY_NOT_ALLOWED', message: 'x' }, 'shell'),
      'The user has not allowed shell access.',
    );
    assert.equal(
      channelErrorText({ code: 'IO_ERROR', message: 'EACCES: permission denied' }, 'files'),
      'The device could not do it: EACCES: permission denied',
    );
  });

  it('describes a running transfer with bytes, rate and time left', () => {
    const running: TransferState = {
      id: 1,
      direction: 'download',
      name: 'a.iso',
      path: 'a.iso',
      size: 5_000_000,
      bytes: 1_200_000,
      status: 'running',
      rate: 800_000,
      eta: 5,
      error: null,
      acceptedAs: null,
    };
    assert.equal(transferLine(running), '1.20 MB of 5.00 MB · 800 kB/s · 5 s left');
    assert.equal(
      transferLine({ ...running, rate: null, eta: null }),
      '1.20 MB of 5.00 MB · measuring speed…',
    );
    assert.equal(transferLine({ ...running, status: 'failed', error: 'Nope.' }), 'Nope.');
  });
});

describe('Download', () => {
  function chunks(channel: number, data: Uint8Array, from: number, to: number): FileChunkFrame[] {
    const out: FileChunkFrame[] = [];
    for (let at = from; at < to; at += FILE_CHUNK_BYTES) {
      const bytes = encodeFileChunk({
        channel,
        offset: at,
        data: data.subarray(at, Math.min(to, at + FILE_CHUNK_BYTES)),
      });
      const result = decodeFrame(bytes);
      if (result.ok && result.frame.kind === 'file') out.push(result.frame);
    }
    return out;
  }

  it('resumes from the received offset on a new channel after an interruption and saves the whole file', async () => {
    const { router, last } = wire();
    const data = randomBytes(700_000);
    const saved: Array<{ blob: Blob; name: string }> = [];
    const download = new Download(
      router,
      1,
      'docs/a.bin',
      saveInMemory((blob, name) => saved.push({ blob, name })),
    );
    download.start();
    const first = last('file-read')!;
    assert.deepEqual([slotOf(first.channel), first.path, first.offset], [SLOT, 'docs/a.bin', 0]);
    download.onChannelMessage({
      type: 'file-info',
      channel: first.channel,
      path: 'docs/a.bin',
      size: data.length,
      modifiedAt: 1,
    });
    for (const frame of chunks(first.channel, data, 0, 300_000)) download.onChannelFrame(frame);
    assert.equal(last('file-ack')?.offset, FILE_ACK_EVERY_BYTES, 'acked once FILE_ACK_EVERY_BYTES arrived');

    download.interrupt();
    assert.equal(download.state.status, 'interrupted');
    download.resume();
    const second = last('file-read')!;
    assert.notEqual(second.channel, first.channel);
    assert.equal(second.offset, 300_000);
    download.onChannelMessage({
      type: 'file-info',
      channel: second.channel,
      path: 'docs/a.bin',
      size: data.length,
      modifiedAt: 1,
    });
    // Late chunks on the old channel are ignored.
    for (const frame of chunks(first.channel, data, 300_000, 400_000)) download.onChannelFrame(frame);
    for (const frame of chunks(second.channel, data, 300_000, data.length)) download.onChannelFrame(frame);
    download.onChannelMessage({
      type: 'file-end',
      channel: second.channel,
      size: data.length,
      sha256: sha256(data),
    });
    await waitFor('the download to be saved', () => download.state.status === 'done');
    assert.equal(saved[0]?.name, 'a.bin');
    return saved[0]!.blob
      .arrayBuffer()
      .then((buffer) => assert.equal(sha256(new Uint8Array(buffer)), sha256(data)));
  });

  it('a checksum mismatch fails it, and Retry starts again from the first byte', () => {
    const { router, last } = wire();
    const data = randomBytes(1000);
    const download = new Download(
      router,
      1,
      'a.bin',
      saveInMemory(() => assert.fail('a damaged file is never saved')),
    );
    download.start();
    const read = last('file-read')!;
    download.onChannelMessage({
      type: 'file-info',
      channel: read.channel,
      path: 'a.bin',
      size: 1000,
      modifiedAt: 1,
    });
    for (const frame of chunks(read.channel, data, 0, 1000)) download.onChannelFrame(frame);
    download.onChannelMessage({
      type: 'file-end',
      channel: read.channel,
      size: 1000,
      sha256: '0'.repeat(64),
    });
    assert.equal(download.state.status, 'failed');
    assert.match(download.state.error ?? '', /checksum/);
    download.retry();
    assert.equal(last('file-read')?.offset, 0);
  });

  it('a file that changed between attempts is not stitched together', () => {
    const { router, last } = wire();
    const data = randomBytes(200_000);
    const download = new Download(
      router,
      1,
      'a.bin',
      saveInMemory(() => {}),
    );
    download.start();
    const first = last('file-read')!;
    download.onChannelMessage({
      type: 'file-info',
      channel: first.channel,
      path: 'a.bin',
      size: 200_000,
      modifiedAt: 1,
    });
    for (const frame of chunks(first.channel, data, 0, 100_000)) download.onChannelFrame(frame);
    download.interrupt();
    download.resume();
    const second = last('file-read')!;
    download.onChannelMessage({
      type: 'file-info',
      channel: second.channel,
      path: 'a.bin',
      size: 200_000,
      modifiedAt: 2,
    });
    assert.equal(download.state.status, 'failed');
    assert.match(download.state.error ?? '', /changed/);
    download.retry();
    assert.equal(last('file-read')?.offset, 0);
  });

  it('a request the relay turns away as TOO_FREQUENT goes again on a fresh channel after a pause, and the file arrives whole', async () => {
    const { router, sent, last } = wire();
    const data = randomBytes(100_000);
    const saved: Blob[] = [];
    const download = new Download(
      router,
      1,
      'docs/b.bin',
      saveInMemory((blob) => saved.push(blob)),
    );
    download.start();
    const first = last('file-read')!;
    download.onChannelMessage({
      type: 'channel-error',
      channel: first.channel,
      code: 'TOO_FREQUENT',
      message: 'Too many requests at once',
    });
    assert.equal(download.state.status, 'starting', 'not failed: it waits to ask again');
    assert.equal(last('channel-close'), undefined, 'the request never reached the agent: nothing to close');
    await waitFor(
      'the request sent again',
      () => sent.filter((message) => message.type === 'file-read').length === 2,
    );
    const again = last('file-read')!;
    assert.notEqual(again.channel, first.channel);
    assert.deepEqual([again.path, again.offset], ['docs/b.bin', 0]);
    download.onChannelMessage({
      type: 'file-info',
      channel: again.channel,
      path: 'docs/b.bin',
      size: data.length,
      modifiedAt: 1,
    });
    for (const frame of chunks(again.channel, data, 0, data.length)) download.onChannelFrame(frame);
    download.onChannelMessage({
      type: 'file-end',
      channel: again.channel,
      size: data.length,
      sha256: sha256(data),
    });
    await waitFor('the download to be saved', () => download.state.status === 'done');
    assert.equal(sha256(new Uint8Array(await saved[0]!.arrayBuffer())), sha256(data));
  });

  it('cancelled while it waits to ask again, it asks no more', async () => {
    const { router, sent, last } = wire();
    const download = new Download(
      router,
      1,
      'c.bin',
      saveInMemory(() => {}),
    );
    download.start();
    const read = last('file-read')!;
    download.onChannelMessage({
      type: 'channel-error',
      channel: read.channel,
      code: 'TOO_FREQUENT',
      message: '',
    });
    download.cancel();
    // Past the pause after which it would have asked again.
    await new Promise((resolve) => setTimeout(resolve, TOO_FREQUENT_PAUSE_MS + 500));
    assert.equal(sent.filter((message) => message.type === 'file-read').length, 1);
    assert.equal(download.state.status, 'cancelled');
  });

  it('cancel closes the channel on the agent', () => {
    const { router, last } = wire();
    const download = new Download(
      router,
      1,
      'a.bin',
      saveInMemory(() => {}),
    );
    download.start();
    const read = last('file-read')!;
    download.cancel();
    assert.deepEqual(last('channel-close'), { type: 'channel-close', channel: read.channel });
    assert.equal(download.state.status, 'cancelled');
  });
});

describe('Upload', () => {
  /** Plays the agent: acks every FILE_ACK_EVERY_BYTES of what arrived, when asked to. */
  function agentAcks(upload: Upload, frames: FileChunkFrame[], channel: number, acked: { offset: number }) {
    let received = acked.offset;
    for (const frame of frames.filter((f) => f.channel === channel && f.offset + f.data.length > received)) {
      received = frame.offset + frame.data.length;
    }
    acked.offset = received;
    upload.onChannelMessage({ type: 'file-ack', channel, offset: received });
  }

  it('sends from the ready offset, never past the window, and ends with the SHA-256 of the whole file', async () => {
    const { router, frames: sentFrames, last } = wire();
    const frames = sentFrames as FileChunkFrame[];
    const data = randomBytes(3 * FILE_WINDOW_BYTES + 12_345);
    const upload = new Upload(router, 1, new Blob([data]), 'docs/big.bin');
    upload.start();
    const write = last('file-write')!;
    assert.deepEqual([write.path, write.size, write.overwrite], ['docs/big.bin', data.length, false]);
    const start = 1_000_000;
    upload.onChannelMessage({ type: 'file-ready', channel: write.channel, offset: start });
    const acked = { offset: start };
    for (let round = 0; round < 20 && !last('file-end'); round++) {
      await settle();
      const sentTo = Math.max(start, ...frames.map((frame) => frame.offset + frame.data.length));
      assert.ok(
        sentTo - acked.offset <= FILE_WINDOW_BYTES,
        `sent ${sentTo} with ${acked.offset} acknowledged`,
      );
      agentAcks(upload, frames, write.channel, acked);
    }
    await settle();
    const end = last('file-end')!;
    assert.equal(end.size, data.length);
    assert.equal(end.sha256, sha256(data), 'the hash covers the bytes before the resume offset too');
    assert.equal(frames[0]?.offset, start);
    const sent = Buffer.concat(frames.map((frame) => frame.data));
    assert.equal(sha256(sent), sha256(data.subarray(start)));
    upload.onChannelMessage({
      type: 'file-done',
      channel: write.channel,
      path: 'docs/big.bin',
      size: data.length,
    });
    assert.equal(upload.state.status, 'done');
  });

  it('waits for the operator on FILE_EXISTS and replaces with overwrite on request', () => {
    const { router, last } = wire();
    const upload = new Upload(router, 1, new Blob([new Uint8Array(10)]), 'a.txt');
    upload.start();
    const write = last('file-write')!;
    upload.onChannelMessage({
      type: 'channel-error',
      channel: write.channel,
      code: 'FILE_EXISTS',
      message: 'exists',
    });
    assert.equal(upload.state.status, 'exists');
    assert.equal(last('channel-close'), undefined, 'the agent already closed that channel');
    upload.replace();
    const again = last('file-write')!;
    assert.equal(again.overwrite, true);
    assert.notEqual(again.channel, write.channel);
  });

  it('an empty file ends at once with the hash of nothing', async () => {
    const { router, last } = wire();
    const upload = new Upload(router, 1, new Blob([]), 'empty.txt');
    upload.start();
    upload.onChannelMessage({ type: 'file-ready', channel: last('file-write')!.channel, offset: 0 });
    await settle();
    assert.equal(last('file-end')?.sha256, sha256(new Uint8Array(0)));
  });
});

describe('ChatController', () => {
  it('replaces its own message with the echo, never duplicates history, and counts unread while hidden', () => {
    const sent: ControlMessage[] = [];
    const chat = new ChatController((message) => {
      sent.push(message);
      return true;
    });
    assert.equal(chat.send('   '), 'empty');
    assert.equal(chat.send('x'.repeat(4001)), 'too-long');
    assert.equal(chat.send('hello'), null);
    const mine = sent[0] as MessageOf<'chat'>;
    assert.equal(chat.state.messages[0]?.delivery, 'sending');
    chat.receive({ ...mine, from: { kind: 'operator', id: 'op-1', name: 'Alice' }, sentAt: 5 });
    chat.receive({ ...mine, from: { kind: 'operator', id: 'op-1', name: 'Alice' }, sentAt: 5 });
    assert.equal(chat.state.messages.length, 1);
    assert.equal(chat.state.messages[0]?.delivery, 'delivered');
    assert.equal(chat.state.unread, 0, 'your own messages are never unread');
    chat.receive({ type: 'chat', id: 'u1', text: 'hi', from: { kind: 'user', name: 'bob' }, sentAt: 6 });
    assert.equal(chat.state.unread, 1);
    chat.setVisible(true);
    assert.equal(chat.state.unread, 0);
  });

  it('marks what was pending as not delivered when the relay refuses chat', () => {
    const chat = new ChatController(() => true);
    chat.send('hello');
    chat.refused('The user has not allowed chat.');
    assert.equal(chat.state.messages[0]?.delivery, 'failed');
    assert.equal(chat.state.error, 'The user has not allowed chat.');
  });
});

describe('TerminalSession', () => {
  it('splits a large paste into frames of at most MAX_SHELL_BYTES on stream 0', () => {
    const { router, frames, last } = wire();
    const shell = new TerminalSession(router, 1);
    shell.open(100, 30);
    const open = last('shell-open')!;
    assert.deepEqual([open.cols, open.rows], [100, 30]);
    router.route({ type: 'shell-opened', channel: open.channel, shell: '/bin/sh' });
    shell.input('y'.repeat(MAX_SHELL_BYTES * 2 + 10));
    assert.deepEqual(
      frames.map((frame) => [frame.kind, (frame as ShellDataFrame).stream, frame.data.length]),
      [
        ['shell', 0, MAX_SHELL_BYTES],
        ['shell', 0, MAX_SHELL_BYTES],
        ['shell', 0, 10],
      ],
    );
    shell.resize(100, 30);
    assert.equal(last('shell-resize'), undefined, 'an unchanged size is not sent');
    shell.resize(120, 40);
    assert.deepEqual(last('shell-resize'), {
      type: 'shell-resize',
      channel: open.channel,
      cols: 120,
      rows: 40,
    });
    router.route({ type: 'shell-exit', channel: open.channel, exitCode: 0, signal: null });
    assert.deepEqual([shell.state.status, shell.state.ended], ['exited', 'Shell exited with code 0']);
  });

  it('keeps output that arrives before a terminal is attached', () => {
    const { router, last } = wire();
    const shell = new TerminalSession(router, 1);
    shell.open(80, 24);
    const channel = last('shell-open')!.channel;
    router.route({ type: 'shell-opened', channel, shell: '/bin/sh' });
    router.routeFrame({ kind: 'shell', channel, stream: 0, data: new TextEncoder().encode('$ ') });
    const shown: string[] = [];
    shell.attach((bytes) => shown.push(new TextDecoder().decode(bytes)));
    assert.deepEqual(shown, ['$ ']);
  });
});

describe('SessionTools', () => {
  it('pauses transfers while the agent reconnects, then closes the old channel and resumes from the received offset', () => {
    const sent: ControlMessage[] = [];
    const tools = new SessionTools(saveInMemory(() => {}));
    tools.connect({
      slot: SLOT,
      send: (message) => {
        sent.push(message);
        return true;
      },
      sendFrame: () => true,
    });
    tools.setPermissions(permissionsWith({ view: true, chat: true, files: true, shell: true }));
    tools.transfers.download('a.bin');
    const first = sent.find((message): message is MessageOf<'file-read'> => message.type === 'file-read')!;
    tools.receive({ type: 'file-info', channel: first.channel, path: 'a.bin', size: 500_000, modifiedAt: 1 });
    const data = new Uint8Array(200_000);
    for (let at = 0; at < data.length; at += FILE_CHUNK_BYTES) {
      tools.receiveFrame({
        kind: 'file',
        channel: first.channel,
        offset: at,
        data: data.subarray(at, at + FILE_CHUNK_BYTES),
      });
    }
    tools.agentStatus('reconnecting');
    assert.equal(tools.transfers.state.items[0]?.status, 'interrupted');
    sent.length = 0;
    tools.agentStatus('connected');
    assert.deepEqual(sent[0], { type: 'channel-close', channel: first.channel });
    assert.deepEqual(sent[1] && { ...sent[1], channel: 0 }, {
      type: 'file-read',
      channel: 0,
      path: 'a.bin',
      offset: 200_000,
    });
  });

  it('stops transfers and shells when the user takes file and shell access back', () => {
    const tools = new SessionTools(saveInMemory(() => {}));
    tools.connect({ slot: SLOT, send: () => true, sendFrame: () => true });
    const all = permissionsWith({ view: true, chat: true, files: true, shell: true });
    tools.setPermissions(all);
    tools.transfers.upload(new File(['x'], 'x.txt'), '');
    const shell = tools.terminals.add()!;
    shell.open(80, 24);
    tools.setPermissions({ ...all, files: false, shell: false });
    assert.equal(tools.transfers.state.items[0]?.status, 'failed');
    assert.equal(tools.transfers.state.items[0]?.error, 'The user turned off file access.');
    assert.deepEqual(
      [shell.state.status, shell.state.ended],
      ['closed', 'The user turned off shell access.'],
    );
  });
});

describe('OperatorChannels', () => {
  it('gives ids in the slot, drops what nobody owns, and closes abandoned channels when the agent is back', () => {
    const { router, sent } = wire();
    const seen: ControlMessage[] = [];
    const channel = router.open({ onChannelMessage: (message) => seen.push(message) })!;
    assert.equal(slotOf(channel), SLOT);
    router.route({ type: 'file-op-done', channel: channel + 1 });
    assert.equal(router.unrouted, 1);
    router.abandon(channel);
    router.route({ type: 'file-op-done', channel });
    assert.equal(seen.length, 0);
    router.closeAbandoned();
    assert.deepEqual(sent, [{ type: 'channel-close', channel }]);
    router.detach();
    assert.equal(router.open({ onChannelMessage: () => {} }), undefined);
  });
});

describe('FileBrowser', () => {
  it('a listing the agent never answers fails with a clear error and its channel is closed on the agent', async () => {
    const { router, sent } = wire(50);
    const files = new FileBrowser(router);
    files.open('docs');
    assert.equal(files.state.loading, true);
    const request = sent.find((message) => message.type === 'file-list');
    assert.ok(request && request.type === 'file-list');
    await new Promise<void>((resolve) => files.subscribe(() => !files.state.loading && resolve()));
    assert.match(files.state.error ?? '', /^The device did not answer within \d+ s\.$/);
    assert.deepEqual(sent.at(-1), { type: 'channel-close', channel: request.channel });
  });

  it('a listing still pending when the connection drops is dropped without an error', async () => {
    const { router } = wire();
    const files = new FileBrowser(router);
    files.open('docs');
    files.disconnected();
    router.detach();
    await Promise.resolve();
    assert.deepEqual([files.state.loading, files.state.error], [false, null]);
  });
});

describe('asking the user for access', () => {
  const NONE = permissionsWith({});

  it('sends one permission request, waits, and the next permissions answer it', () => {
    const sent: ControlMessage[] = [];
    let now = 1_000_000;
    const access = new AccessRequests(
      (message) => sent.push(message) > 0,
      () => now,
    );
    assert.equal(access.ask('shell'), true);
    assert.deepEqual(sent, [{ type: 'permission-request', requested: { ...NONE, shell: true } }]);
    assert.equal(access.state.shell, 'waiting');
    assert.equal(access.ask('shell'), false, 'not twice while waiting');
    access.answered({ ...NONE, view: true });
    assert.equal(access.state.shell, 'refused');
    now += 1_000;
    assert.equal(access.ask('files'), false, 'the relay would drop a second request within 10 s');
    assert.equal(access.state.files, 'too-soon');
    now += 10_000;
    assert.equal(access.ask('files'), true);
    access.answered({ ...NONE, files: true });
    assert.equal(access.state.files, 'idle');
    assert.equal(sent.length, 2);
  });

  it('nothing is marked waiting when the request could not be sent', () => {
    const access = new AccessRequests(() => false);
    assert.equal(access.ask('chat'), false);
    assert.equal(access.state.chat, 'idle');
  });
});
