import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { IncomingFile, IncomingFileAnswer } from '../../agent/core/ports.ts';
import {
  type ControlMessage,
  DEFAULT_POLICY,
  encodeFileChunk,
  FILE_ACK_EVERY_BYTES,
  FILE_CHUNK_BYTES,
  FILE_WINDOW_BYTES,
  MAX_LISTING_ENTRIES,
} from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';
import type { ChannelRelay } from './channel-relay.ts';
import { RecordingUser, type TestAgent, useTestAgent, WAIT_MS } from './channel-relay.ts';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
/** A size that is not a multiple of the chunk size, so the last chunk is short. */
const BIG_FILE_BYTES = 5 * 1024 * 1024 + 12_345;

/**
 * Downloads like a careful but slow operator: acks only when the agent has used its whole window
 * (and a moment later), so an agent that ran past the window would be caught. Returns the bytes,
 * the agent's file-end, and the largest distance it ran ahead of the last ack.
 */
async function download(relay: ChannelRelay, channel: number, path: string, offset = 0) {
  relay.send({ type: 'file-read', channel, path, offset });
  const info = await relay.reply(channel, 'file-info', 'channel-error');
  if (info.type !== 'file-info') throw new Error(`download refused: ${JSON.stringify(info)}`);
  let acked = offset;
  let received = offset;
  let furthestAhead = 0;
  let seen = 0;
  const chunks: Uint8Array[] = [];
  relay.onFrame(() => {
    const frames = relay.fileChunks(channel);
    for (; seen < frames.length; seen++) {
      const frame = frames[seen]!;
      assert.equal(frame.offset, received, 'chunks arrive in order, without gaps');
      chunks.push(frame.data);
      received += frame.data.byteLength;
      furthestAhead = Math.max(furthestAhead, received - acked);
      if (received - acked >= FILE_WINDOW_BYTES || received === info.size) {
        const at = received;
        setTimeout(() => {
          acked = at;
          relay.send({ type: 'file-ack', channel, offset: at });
        }, 30);
      }
    }
  });
  const end = await relay.reply(channel, 'file-end', 'channel-error');
  return { info, end, data: Buffer.concat(chunks), furthestAhead };
}

/** Uploads like a well-behaved operator: never more than the window beyond the agent's last ack. */
async function upload(
  relay: ChannelRelay,
  channel: number,
  path: string,
  data: Uint8Array,
  options: { overwrite?: boolean; sha256?: string; stopAfter?: number } = {},
): Promise<{ ready?: number; reply: ControlMessage }> {
  relay.send({
    type: 'file-write',
    channel,
    path,
    size: data.byteLength,
    overwrite: options.overwrite ?? false,
  });
  const ready = await relay.reply(channel, 'file-ready', 'channel-error');
  if (ready.type !== 'file-ready') return { reply: ready };
  const acked = () => Math.max(ready.offset, ...relay.messages('file-ack', channel).map((m) => m.offset));
  const stop = options.stopAfter ?? data.byteLength;
  for (let at = ready.offset; at < stop; at += FILE_CHUNK_BYTES) {
    const chunk = data.subarray(at, Math.min(at + FILE_CHUNK_BYTES, stop));
    await relay.until(
      () => at + chunk.byteLength - acked() <= FILE_WINDOW_BYTES,
      'an ack that opens the window',
    );
    relay.sendBytes(encodeFileChunk({ channel, offset: at, data: chunk }));
  }
  if (stop < data.byteLength) return { ready: ready.offset, reply: ready };
  relay.send({ type: 'file-end', channel, size: data.byteLength, sha256: options.sha256 ?? sha256(data) });
  return { ready: ready.offset, reply: await relay.reply(channel, 'file-done', 'channel-error') };
}

function partFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.lifeline-part')) found.push(join(dir, entry.name));
    }
  };
  walk(root);
  return found;
}

type FileOpRequest = Omit<Extract<ControlMessage, { type: 'file-op' }>, 'type' | 'channel'>;

/** Sends one `file-op` on the agent's channel `n`; returns 'done' or the result code it was refused with. */
async function fileOp(agent: TestAgent, n: number, request: FileOpRequest): Promise<string> {
  const channel = agent.channel(n);
  agent.relay.send({ type: 'file-op', channel, ...request });
  const reply = await agent.relay.reply(channel, 'file-op-done', 'channel-error');
  return reply.type === 'channel-error' ? reply.code : 'done';
}

describe('file transfers on the agent (real files in a shared folder)', () => {
  const agents = useTestAgent();

  it('a multi-MiB download arrives intact with the SHA-256 of the file, never more than the window ahead of acks', async () => {
    const agent = await agents.start();
    const content = randomBytes(BIG_FILE_BYTES);
    mkdirSync(join(agent.root, 'docs'));
    writeFileSync(join(agent.root, 'docs', 'big.bin'), content);
    const result = await download(agent.relay, agent.channel(1), 'docs/big.bin');
    assert.ok(result.end.type === 'file-end', JSON.stringify(result.end));
    assert.equal(result.info.size, BIG_FILE_BYTES);
    assert.equal(result.end.size, BIG_FILE_BYTES);
    assert.equal(result.end.sha256, sha256(content));
    assert.ok(result.data.equals(content));
    assert.ok(result.furthestAhead <= FILE_WINDOW_BYTES, `ran ${result.furthestAhead} bytes ahead`);
    assert.equal(
      result.furthestAhead,
      FILE_WINDOW_BYTES,
      'the agent used its window (the test did wait for it)',
    );
    assert.ok(agent.relay.fileChunks(agent.channel(1)).every((f) => f.data.byteLength <= FILE_CHUNK_BYTES));
    assert.ok(agent.user.statuses.some((line) => line.includes(`downloads ${agent!.root}/docs/big.bin`)));
  });

  it('a download resumes from an offset, and its SHA-256 still covers the whole file', async () => {
    const agent = await agents.start();
    const content = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(agent.root, 'big.bin'), content);
    const offset = 2 * 1024 * 1024 + 7;
    const result = await download(agent.relay, agent.channel(1), 'big.bin', offset);
    assert.ok(result.end.type === 'file-end');
    assert.equal(agent.relay.fileChunks(agent.channel(1))[0]?.offset, offset);
    assert.ok(result.data.equals(content.subarray(offset)));
    assert.equal(result.end.sha256, sha256(content));
  });

  it('an upload creates the file, acks as it goes and leaves no part file', async () => {
    const agent = await agents.start();
    const content = randomBytes(2 * 1024 * 1024 + 999);
    const { ready, reply } = await upload(agent.relay, agent.channel(1), 'new.bin', content);
    assert.equal(ready, 0);
    assert.deepEqual(reply, {
      type: 'file-done',
      channel: agent.channel(1),
      path: 'new.bin',
      size: content.byteLength,
    });
    assert.ok(readFileSync(join(agent.root, 'new.bin')).equals(content));
    const acks = agent.relay.messages('file-ack', agent.channel(1)).map((m) => m.offset);
    assert.equal(acks.at(-1), content.byteLength);
    for (let i = 1; i < acks.length; i++)
      assert.ok(acks[i]! - acks[i - 1]! <= FILE_ACK_EVERY_BYTES + FILE_CHUNK_BYTES);
    assert.deepEqual(partFiles(agent.root), []);
    assert.ok(agent.user.statuses.some((line) => line.includes(`saved ${agent!.root}/new.bin`)));
  });

  it('an upload over an existing file is refused with FILE_EXISTS, unless it asks to overwrite', async () => {
    const agent = await agents.start();
    writeFileSync(join(agent.root, 'notes.txt'), 'old');
    const refused = await upload(agent.relay, agent.channel(1), 'notes.txt', Buffer.from('new'));
    assert.equal(refused.reply.type === 'channel-error' && refused.reply.code, 'FILE_EXISTS');
    assert.equal(readFileSync(join(agent.root, 'notes.txt'), 'utf8'), 'old');
    const replaced = await upload(agent.relay, agent.channel(2), 'notes.txt', Buffer.from('new'), {
      overwrite: true,
    });
    assert.equal(replaced.reply.type, 'file-done');
    assert.equal(readFileSync(join(agent.root, 'notes.txt'), 'utf8'), 'new');
  });

  it('an interrupted upload resumes from its part file', async () => {
    const agent = await agents.start();
    const content = randomBytes(3 * 1024 * 1024);
    await upload(agent.relay, agent.channel(1), 'resume.bin', content, { stopAfter: 1024 * 1024 });
    await agent.relay.until(
      () => agent!.relay.messages('file-ack', agent!.channel(1)).some((ack) => ack.offset === 1024 * 1024),
      'the first MiB acknowledged',
    );
    agent.relay.send({ type: 'channel-close', channel: agent.channel(1) });
    await waitFor('the part file', () => existsSync(join(agent!.root, 'resume.bin.lifeline-part')));
    const { ready, reply } = await upload(agent.relay, agent.channel(2), 'resume.bin', content);
    assert.equal(ready, 1024 * 1024);
    assert.equal(reply.type, 'file-done');
    assert.ok(readFileSync(join(agent.root, 'resume.bin')).equals(content));
    assert.deepEqual(partFiles(agent.root), []);
  });

  it('a part file left from before resumes, and one longer than the upload starts over', async () => {
    const agent = await agents.start();
    const content = randomBytes(300_000);
    writeFileSync(join(agent.root, 'a.bin.lifeline-part'), content.subarray(0, 100_000));
    const resumed = await upload(agent.relay, agent.channel(1), 'a.bin', content);
    assert.equal(resumed.ready, 100_000);
    assert.ok(readFileSync(join(agent.root, 'a.bin')).equals(content));
    writeFileSync(join(agent.root, 'b.bin.lifeline-part'), randomBytes(400_000));
    const restarted = await upload(agent.relay, agent.channel(2), 'b.bin', content);
    assert.equal(restarted.ready, 0);
    assert.ok(readFileSync(join(agent.root, 'b.bin')).equals(content));
  });

  it('an upload whose SHA-256 does not match is refused with CHECKSUM_MISMATCH and leaves no file', async () => {
    const agent = await agents.start();
    const content = randomBytes(200_000);
    const { reply } = await upload(agent.relay, agent.channel(1), 'bad.bin', content, {
      sha256: 'f'.repeat(64),
    });
    assert.equal(reply.type === 'channel-error' && reply.code, 'CHECKSUM_MISMATCH');
    assert.deepEqual(readdirSync(agent.root), []);
  });

  it('paths outside the shared folder are refused with PATH_OUTSIDE_FOLDER, and the user is told so', async () => {
    const agent = await agents.start();
    const { relay } = agent;
    symlinkSync('/etc', join(agent.root, 'etc-link'));
    const requests: ControlMessage[] = [
      { type: 'file-read', channel: agent.channel(1), path: '../../etc/passwd', offset: 0 },
      { type: 'file-read', channel: agent.channel(2), path: 'etc-link/hostname', offset: 0 },
      { type: 'file-write', channel: agent.channel(3), path: '/tmp/evil', size: 1, overwrite: true },
      { type: 'file-list', channel: agent.channel(4), path: 'etc-link' },
      { type: 'file-op', channel: agent.channel(5), op: 'mkdir', path: 'C:/evil' },
      { type: 'file-op', channel: agent.channel(6), op: 'rename', path: 'x', to: '../x' },
    ];
    for (const request of requests) relay.send(request);
    for (let n = 1; n <= requests.length; n++) {
      const reply = await relay.reply(
        agent.channel(n),
        'channel-error',
        'file-info',
        'file-ready',
        'file-listing',
        'file-op-done',
      );
      assert.equal(
        reply.type === 'channel-error' && reply.code,
        'PATH_OUTSIDE_FOLDER',
        JSON.stringify(reply),
      );
    }
    // The end user saw each request named, then told it was refused: nothing outside was touched.
    const refusals = agent.user.statuses.filter(
      (line) => line.startsWith('Refused:') && /outside/.test(line),
    );
    assert.equal(refusals.length, requests.length, agent.user.statuses.join('\n'));
  });

  it('a listing shows folders first, then names case-insensitively, in pages', async () => {
    const agent = await agents.start();
    for (const name of ['beta.txt', 'Alpha.txt', 'gamma']) writeFileSync(join(agent.root, name), name);
    mkdirSync(join(agent.root, 'zeta'));
    mkdirSync(join(agent.root, 'Docs'));
    agent.relay.send({ type: 'file-list', channel: agent.channel(1), path: '' });
    const listing = await agent.relay.next('file-listing', 0, agent.channel(1));
    assert.equal(listing.root, agent.root);
    assert.equal(listing.total, 5);
    assert.deepEqual(
      listing.entries.map((e) => `${e.type}:${e.name}`),
      ['directory:Docs', 'directory:zeta', 'file:Alpha.txt', 'file:beta.txt', 'file:gamma'],
    );
    assert.equal(listing.entries[2]?.size, 'Alpha.txt'.length);

    mkdirSync(join(agent.root, 'many'));
    for (let i = 0; i < MAX_LISTING_ENTRIES + 5; i++) writeFileSync(join(agent.root, 'many', `f${i}`), '');
    agent.relay.send({ type: 'file-list', channel: agent.channel(2), path: 'many' });
    const first = await agent.relay.next('file-listing', 0, agent.channel(2));
    assert.equal(first.entries.length, MAX_LISTING_ENTRIES);
    agent.relay.send({
      type: 'file-list',
      channel: agent.channel(3),
      path: 'many',
      offset: first.entries.length,
    });
    const second = await agent.relay.next('file-listing', 0, agent.channel(3));
    assert.equal(second.offset, MAX_LISTING_ENTRIES);
    assert.equal(second.entries.length, 5);
    const names = new Set([...first.entries, ...second.entries].map((e) => e.name));
    assert.equal(names.size, MAX_LISTING_ENTRIES + 5);
  });

  it('mkdir, rename and delete change the folder, and refuse what they must', async () => {
    const agent = await agents.start();
    let n = 0;
    const op = (request: FileOpRequest) => fileOp(agent!, ++n, request);
    assert.equal(await op({ op: 'mkdir', path: 'box' }), 'done');
    assert.equal(await op({ op: 'mkdir', path: 'box' }), 'FILE_EXISTS');
    assert.equal(await op({ op: 'mkdir', path: 'no/such/parent' }), 'FILE_NOT_FOUND');
    writeFileSync(join(agent.root, 'box', 'inside.txt'), 'x');
    writeFileSync(join(agent.root, 'other.txt'), 'y');
    assert.equal(await op({ op: 'delete', path: 'box' }), 'IO_ERROR', 'a folder with files is not deleted');
    assert.equal(await op({ op: 'rename', path: 'other.txt', to: 'box/inside.txt' }), 'FILE_EXISTS');
    assert.equal(await op({ op: 'rename', path: 'other.txt', to: 'box/moved.txt' }), 'done');
    assert.equal(readFileSync(join(agent.root, 'box', 'moved.txt'), 'utf8'), 'y');
    assert.equal(await op({ op: 'delete', path: 'missing' }), 'FILE_NOT_FOUND');
    assert.equal(await op({ op: 'delete', path: 'box/inside.txt' }), 'done');
    assert.equal(await op({ op: 'delete', path: 'box/moved.txt' }), 'done');
    assert.equal(await op({ op: 'delete', path: 'box' }), 'done');
    assert.equal(await op({ op: 'delete', path: '' }), 'FORBIDDEN');
    assert.deepEqual(readdirSync(agent.root), []);
    assert.ok(
      agent.user.statuses.some((line) =>
        line.includes(`renames ${agent!.root}/other.txt to ${agent!.root}/box/moved.txt`),
      ),
    );
  });

  it('copy duplicates a file or a whole folder (links as links), and refuses an existing target, a folder into itself and paths outside', async () => {
    const agent = await agents.start();
    const { root } = agent;
    let n = 0;
    const op = (request: FileOpRequest) => fileOp(agent!, ++n, request);
    const content = randomBytes(300_000);
    mkdirSync(join(root, 'project', 'src', 'deep'), { recursive: true });
    writeFileSync(join(root, 'project', 'src', 'deep', 'data.bin'), content);
    writeFileSync(join(root, 'project', 'notes.txt'), 'notes');
    symlinkSync('notes.txt', join(root, 'project', 'readme-link'));
    const outside = mkdtempSync(join(tmpdir(), 'lifeline-outside-'));
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(root, 'out-dir'));
    try {
      assert.equal(await op({ op: 'copy', path: 'project/notes.txt', to: 'notes copy.txt' }), 'done');
      assert.equal(readFileSync(join(root, 'notes copy.txt'), 'utf8'), 'notes');
      assert.equal(await op({ op: 'copy', path: 'project', to: 'backup' }), 'done');
      assert.equal(sha256(readFileSync(join(root, 'backup', 'src', 'deep', 'data.bin'))), sha256(content));
      assert.ok(lstatSync(join(root, 'backup', 'readme-link')).isSymbolicLink(), 'a link stays a link');
      assert.equal(readFileSync(join(root, 'project', 'notes.txt'), 'utf8'), 'notes', 'the source stays');

      assert.equal(await op({ op: 'copy', path: 'project/notes.txt', to: 'notes copy.txt' }), 'FILE_EXISTS');
      assert.equal(await op({ op: 'copy', path: 'project', to: 'project/src/again' }), 'VALIDATION_FAILED');
      assert.equal(existsSync(join(root, 'project', 'src', 'again')), false);
      assert.equal(await op({ op: 'copy', path: 'project' }), 'VALIDATION_FAILED', 'a copy needs `to`');
      assert.equal(await op({ op: 'copy', path: '../x', to: 'x' }), 'PATH_OUTSIDE_FOLDER');
      assert.equal(await op({ op: 'copy', path: 'project/notes.txt', to: '/tmp/x' }), 'PATH_OUTSIDE_FOLDER');
      assert.equal(await op({ op: 'copy', path: 'out-dir/secret.txt', to: 'x' }), 'PATH_OUTSIDE_FOLDER');
      assert.equal(await op({ op: 'copy', path: 'project', to: 'out-dir/x' }), 'PATH_OUTSIDE_FOLDER');
      assert.equal(await op({ op: 'copy', path: 'missing', to: 'x' }), 'FILE_NOT_FOUND');
      assert.equal(existsSync(join(outside, 'x')), false);
      assert.ok(
        agent.user.statuses.some((line) => line.includes(`copies ${root}/project to ${root}/backup`)),
      );
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('a part file kept for a resume is deleted when the session ends', async () => {
    const agent = await agents.start();
    const content = randomBytes(1024 * 1024);
    await upload(agent.relay, agent.channel(1), 'left.bin', content, { stopAfter: 300_000 });
    const part = join(agent.root, 'left.bin.lifeline-part');
    await waitFor('the part file', () => existsSync(part));
    agent.relay.send({ type: 'channel-close', channel: agent.channel(1) });
    // Another upload that is still running when the session ends.
    await upload(agent.relay, agent.channel(2), 'running.bin', content, { stopAfter: 200_000 });
    await waitFor('the second part file', () => existsSync(join(agent!.root, 'running.bin.lifeline-part')));
    assert.ok(existsSync(part), 'a cancelled upload keeps its part until the session ends');
    await agent.session.end();
    assert.deepEqual(partFiles(agent.root), []);
    assert.deepEqual(readdirSync(agent.root), []);
  });

  it('a refused upload leaves what already has its part file name intact, also after the session ends', async () => {
    const agent = await agents.start();
    const { root } = agent;
    const elsewhere = mkdtempSync(join(tmpdir(), 'lifeline-elsewhere-'));
    try {
      writeFileSync(join(elsewhere, 'outside.txt'), 'outside');
      writeFileSync(join(root, 'important.txt'), 'keep me');
      // The user's own things, named as the agent names its part files.
      mkdirSync(join(root, 'folder.txt.lifeline-part'));
      symlinkSync(join(elsewhere, 'outside.txt'), join(root, 'out.txt.lifeline-part'));
      symlinkSync('important.txt', join(root, 'in.txt.lifeline-part'));
      const content = randomBytes(1000);
      for (const [n, name] of ['folder.txt', 'out.txt', 'in.txt'].entries()) {
        const { reply } = await upload(agent.relay, agent.channel(n + 1), name, content);
        assert.equal(
          reply.type,
          'channel-error',
          `the upload to ${name} is refused: ${JSON.stringify(reply)}`,
        );
      }
      await agent.session.end();
      assert.ok(lstatSync(join(root, 'folder.txt.lifeline-part')).isDirectory());
      assert.ok(lstatSync(join(root, 'out.txt.lifeline-part')).isSymbolicLink());
      assert.ok(lstatSync(join(root, 'in.txt.lifeline-part')).isSymbolicLink());
      assert.equal(readFileSync(join(root, 'important.txt'), 'utf8'), 'keep me');
      assert.equal(readFileSync(join(elsewhere, 'outside.txt'), 'utf8'), 'outside');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('revoking files stops a download and tells the operator CAPABILITY_NOT_ALLOWED', async () => {
    const agent = await agents.start();
    writeFileSync(join(agent.root, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const channel = agent.channel(1);
    // Never acked: the agent stops at one window and waits.
    agent.relay.send({ type: 'file-read', channel, path: 'big.bin', offset: 0 });
    const sent = () => agent!.relay.fileChunks(channel).reduce((sum, f) => sum + f.data.byteLength, 0);
    await agent.relay.until(() => sent() === FILE_WINDOW_BYTES, 'one window of chunks', WAIT_MS);
    await agent.session.setPermissions({ ...agent.session.currentPermissions, files: false });
    const error = await agent.relay.next('channel-error', 0, channel);
    assert.equal(error.code, 'CAPABILITY_NOT_ALLOWED');
    agent.relay.send({ type: 'file-ack', channel, offset: FILE_WINDOW_BYTES });
    agent.relay.send({ type: 'file-list', channel: agent.channel(2), path: '' });
    await agent.relay.next('channel-error', 0, agent.channel(2));
    assert.equal(sent(), FILE_WINDOW_BYTES, 'no chunk after the revocation');
    assert.equal(agent.relay.messages('file-end', channel).length, 0);
  });
});

describe('files the end user is asked about before they land (real files in a shared folder)', () => {
  const agents = useTestAgent();

  /** An end user whose interface asks about incoming files, answering with `answer`. */
  function askingUser(answer: (offer: IncomingFile, signal: AbortSignal) => Promise<IncomingFileAnswer>) {
    const offers: IncomingFile[] = [];
    const user = Object.assign(new RecordingUser(), {
      offerFile: (offer: IncomingFile, signal: AbortSignal) => {
        offers.push(offer);
        return answer(offer, signal);
      },
    });
    return { user, offers };
  }

  it('an accepted file is offered first, then written under the name the user chose, with identical bytes', async () => {
    const { user, offers } = askingUser(async () => ({ accepted: true, path: 'inbox/chosen.bin' }));
    const agent = await agents.start({ ui: user });
    mkdirSync(join(agent.root, 'inbox'));
    const data = randomBytes(FILE_CHUNK_BYTES * 3 + 17);
    const channel = agent.channel(1);
    const { reply } = await upload(agent.relay, channel, 'sent.bin', data);
    assert.equal(
      agent.relay.messages('file-offered', channel).length,
      1,
      'the operator is told the user is asked',
    );
    assert.deepEqual(reply, { type: 'file-done', channel, path: 'inbox/chosen.bin', size: data.byteLength });
    assert.equal(offers[0]?.path, 'sent.bin');
    assert.equal(offers[0]?.size, data.byteLength);
    assert.equal(sha256(readFileSync(join(agent.root, 'inbox', 'chosen.bin'))), sha256(data));
    assert.ok(!existsSync(join(agent.root, 'sent.bin')));
  });

  it('a refused file is answered REFUSED_BY_USER and nothing, not even a part file, is written', async () => {
    const { user } = askingUser(async () => ({ accepted: false }));
    const agent = await agents.start({ ui: user });
    const channel = agent.channel(1);
    const { reply } = await upload(agent.relay, channel, 'unwanted.bin', randomBytes(1000));
    assert.equal(reply.type, 'channel-error');
    assert.equal(reply.type === 'channel-error' && reply.code, 'REFUSED_BY_USER');
    await agent.session.end();
    assert.deepEqual(readdirSync(agent.root), []);
  });

  it('an operator who gives up while the user is asked withdraws the question, and nothing is written', async () => {
    let withdrawn = false;
    const { user } = askingUser(
      (_offer, signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            withdrawn = true;
            resolve({ accepted: false });
          }),
        ),
    );
    const agent = await agents.start({ ui: user });
    const channel = agent.channel(1);
    agent.relay.send({ type: 'file-write', channel, path: 'late.bin', size: 10, overwrite: false });
    await agent.relay.next('file-offered', 0, channel);
    agent.relay.send({ type: 'channel-close', channel });
    await waitFor('the question to be withdrawn', () => withdrawn);
    assert.deepEqual(readdirSync(agent.root), []);
  });

  it("with the policy's confirmIncomingFiles off, or a policy that asks no consent, files land without asking", async () => {
    for (const policy of [
      { ...DEFAULT_POLICY, confirmIncomingFiles: false },
      { ...DEFAULT_POLICY, consentRequired: false },
    ]) {
      const { user, offers } = askingUser(async () => ({ accepted: false }));
      const agent = await agents.start({ ui: user, policy });
      const data = randomBytes(500);
      const channel = agent.channel(1);
      const { reply } = await upload(agent.relay, channel, 'direct.bin', data);
      assert.equal(reply.type, 'file-done', JSON.stringify(policy));
      assert.equal(offers.length, 0, 'the user was not asked');
      assert.equal(agent.relay.messages('file-offered', channel).length, 0);
      assert.equal(sha256(readFileSync(join(agent.root, 'direct.bin'))), sha256(data));
    }
  });
});
