import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AccessUnitSplitter, nalUnits } from '../../agent/media/annexb.ts';
import { SessionRecorder } from '../../control-plane/recordings/session-recorder.ts';
import { RECORDING_FAILED_MESSAGE, Relay } from '../../control-plane/relay/relay.ts';
import { sweepOnce } from '../../control-plane/sessions/housekeeping.ts';
import {
  ALL_PERMISSIONS,
  DEFAULT_POLICY,
  decodeFrame,
  encodeShellData,
  encodeVideo,
  type Policy,
  ShellStream,
} from '../../protocol/index.ts';
import { decodeRecording, type RecordingRecord, recordJson } from '../../protocol/recording.ts';
import {
  type AgentRegistration,
  type ApiClient,
  type AuditEvent,
  assertProblem,
  type Credentials,
  createOperator,
  expectJson,
  groupWithKey,
  type Page,
  postRedeem,
  registeredAgent,
  type SessionView,
  startWithAdmin,
  waitUntilEnded as waitUntilSessionEnded,
} from '../support/api.ts';
import { encodeTestPattern, FRAMES } from '../support/h264-stream.ts';
import { waitFor } from '../support/processes.ts';
import { pairInGroup, RelayClient } from './relay-client.ts';

const RECORDED: Policy = { ...DEFAULT_POLICY, recordingMandatory: true };
const DAY_MS = 24 * 60 * 60_000;

interface RecordingView {
  sessionId: string;
  bytes: number;
  startedAt: string;
  endedAt: string | null;
  frames: number;
  droppedFrames: number;
  contentUrl: string;
}

/** A control plane with an admin and helpers to pair a fake agent and operator under a policy. */
async function harness() {
  const { cp, api, admin } = await startWithAdmin({ listen: true });
  const sockets: RelayClient[] = [];
  let unique = 0;

  async function keyFor(policy: Policy): Promise<string> {
    return (await groupWithKey(api, admin, `recorded ${++unique}`, policy)).key;
  }

  function register(key: string): Promise<AgentRegistration> {
    return registeredAgent(api, { registrationKey: key });
  }

  /** The agent on the relay, an operator joined, and the agent's consent. */
  async function pair(policy: Policy) {
    return pairInGroup(api, admin, await keyFor(policy), ALL_PERMISSIONS, sockets);
  }

  const waitUntilEnded = (sessionId: string) => waitUntilSessionEnded(api, admin, sessionId);

  /** The recording's row once the relay has finished it. */
  async function finishedRecording(sessionId: string): Promise<RecordingView> {
    return waitFor(
      'the recording to be finished',
      async () => {
        const response = await api.get(`/api/sessions/${sessionId}/recording`, admin);
        if (response.status !== 200) {
          await response.body?.cancel();
          return undefined;
        }
        const view = (await response.json()) as RecordingView;
        return view.endedAt !== null ? view : undefined;
      },
      10_000,
      50,
    );
  }

  return {
    cp,
    api,
    admin,
    pair,
    register,
    keyFor,
    waitUntilEnded,
    finishedRecording,
    async stop() {
      for (const socket of sockets) await socket.close();
      await cp.stop();
    },
  };
}

function video(sequence: number, keyframe: boolean): Uint8Array {
  const data = new Uint8Array(200 + sequence).fill(sequence);
  return encodeVideo({ keyframe, sequence, captureTime: 1_767_225_600_000 + sequence * 33, data });
}

function describeRecord(record: RecordingRecord): string {
  if (record.kind === 'video') return `video ${record.payload[5]}`;
  const value = recordJson(record) as { action?: string; text?: string; type?: string };
  if (record.kind === 'event') return `event ${value.action}`;
  if (record.kind === 'chat') return `chat ${value.text}`;
  return record.kind;
}

describe('session recording', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  let api: ApiClient;
  let admin: Credentials;

  before(async () => {
    h = await harness();
    api = h.api;
    admin = h.admin;
  });
  after(async () => {
    await h.stop();
  });

  it('a session whose policy makes recording mandatory is recorded from consent to end, in order, and decodes', async () => {
    const { agent, operator, grant } = await h.pair(RECORDED);
    const config = {
      type: 'video-config',
      codec: 'avc1.42E01F',
      width: 64,
      height: 48,
      framerate: 30,
    } as const;
    agent.send(config);
    await operator.next('video-config');
    const frames = [video(0, true), video(1, false), video(2, false)];
    for (const frame of frames) await agent.sendBytes(frame);
    await operator.until(() => operator.videos().length === 3, 'three frames');
    operator.send({ type: 'chat', id: 'c1', text: 'hello from the desk' });
    await agent.next('chat');
    agent.send({ type: 'chat', id: 'c2', text: 'hello from the user' });
    await operator.next('chat', 1);
    await agent.sendBytes(video(3, true));
    await operator.until(() => operator.videos().length === 4, 'four frames');
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);

    const view = await h.finishedRecording(grant.sessionId);
    assert.equal(view.frames, 4);
    assert.equal(view.droppedFrames, 0);
    const path = join(h.cp.dataDir, 'recordings', `${grant.sessionId}.llrec`);
    assert.equal(statSync(path).mode & 0o777, 0o600, 'the file is readable by the server only');
    assert.equal(view.bytes, statSync(path).size);

    const decoded = decodeRecording(readFileSync(path));
    assert.ok(decoded.ok, 'the file decodes');
    assert.equal(decoded.header.sessionId, grant.sessionId);
    assert.equal(decoded.skippedBytes, 0);
    assert.deepEqual(decoded.records.map(describeRecord), [
      'event session.consent',
      'videoConfig',
      'video 0',
      'video 1',
      'video 2',
      'chat hello from the desk',
      'chat hello from the user',
      'video 3',
      'event session.end',
    ]);
    const videos = decoded.records.filter((record) => record.kind === 'video');
    assert.deepEqual(
      videos.map((record) => [...record.payload]),
      [...frames, video(3, true)].map((frame) => [...frame]),
      'video frames are stored exactly as the agent sent them',
    );
    const chat = recordJson(decoded.records[5] as RecordingRecord) as {
      from: { kind: string };
      sentAt: number;
    };
    assert.equal(chat.from.kind, 'operator', 'chat is stored as the relay stamped it');
    assert.ok(chat.sentAt >= decoded.header.startedAt);
    const times = decoded.records.map((record) => record.at);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'record times only go forward',
    );
  });

  it('operators joining and leaving, and shells opened, are on the event track', async () => {
    const { agent, operator, grant } = await h.pair(RECORDED);
    const slot = (operator.messages('welcome')[0] as { slot: number }).slot;
    const channel = slot * 65_536 + 1;
    operator.send({ type: 'shell-open', channel, cols: 80, rows: 24 });
    await agent.next('shell-open');
    await operator.close();
    await agent.next('operator-left');
    agent.send({ type: 'end', reason: 'user-ended' });
    await h.waitUntilEnded(grant.sessionId);
    await h.finishedRecording(grant.sessionId);
    const decoded = decodeRecording(
      readFileSync(join(h.cp.dataDir, 'recordings', `${grant.sessionId}.llrec`)),
    );
    assert.ok(decoded.ok);
    const events = decoded.records
      .filter((record) => record.kind === 'event')
      .map((record) => (recordJson(record) as { action: string }).action);
    assert.deepEqual(events, ['session.consent', 'shell.open', 'session.leave', 'session.end']);
  });

  it('a session whose policy does not require recording is not recorded (404, no file)', async () => {
    const { operator, grant } = await h.pair({ ...DEFAULT_POLICY, recordingMandatory: false });
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    await assertProblem(await api.get(`/api/sessions/${grant.sessionId}/recording`, admin), 404, 'NOT_FOUND');
    await assertProblem(
      await api.get(`/api/sessions/${grant.sessionId}/recording/content`, admin),
      404,
      'NOT_FOUND',
    );
    assert.equal(existsSync(join(h.cp.dataDir, 'recordings', `${grant.sessionId}.llrec`)), false);
  });

  it('the content is served whole with its length, in ranges with 206, and every viewing is audited', async () => {
    const { agent, operator, grant } = await h.pair(RECORDED);
    await agent.sendBytes(video(0, true));
    await operator.until(() => operator.videos().length === 1, 'a frame');
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    const view = await h.finishedRecording(grant.sessionId);
    assert.equal(view.contentUrl, `/api/sessions/${grant.sessionId}/recording/content`);
    const whole = await api.get(view.contentUrl, admin);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(view.bytes));
    const bytes = new Uint8Array(await whole.arrayBuffer());
    assert.equal(bytes.byteLength, view.bytes);
    assert.ok(decodeRecording(bytes).ok);
    const part = await api.get(view.contentUrl, admin, { headers: { range: 'bytes=2-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 2-9/${view.bytes}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.subarray(2, 10));
    await assertProblem(
      await api.get(view.contentUrl, admin, { headers: { range: `bytes=${view.bytes}-` } }),
      416,
      'VALIDATION_FAILED',
    );
    const audit = await expectJson<Page<AuditEvent>>(
      await api.get(`/api/audit-events?sessionId=${grant.sessionId}&action=recording.view`, admin),
      200,
    );
    assert.equal(audit.items.length, 2, 'both viewings are audited (the refused range is not a viewing)');
  });

  it('housekeeping deletes recordings past LIFELINE_RECORDING_RETENTION_DAYS, files and rows', async () => {
    const { operator, grant } = await h.pair(RECORDED);
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    await h.finishedRecording(grant.sessionId);
    const path = join(h.cp.dataDir, 'recordings', `${grant.sessionId}.llrec`);
    const { services } = h.cp;
    assert.equal(services.config.recordingRetentionMs, 30 * DAY_MS, 'thirty days by default');
    const retention = { recordings: services.recordings, retentionMs: services.config.recordingRetentionMs };
    await sweepOnce(services.store, services.audit, services.logger, retention, Date.now() + 29 * DAY_MS);
    assert.ok(existsSync(path), 'a recording within its retention is kept');
    await sweepOnce(services.store, services.audit, services.logger, retention, Date.now() + 31 * DAY_MS);
    assert.equal(existsSync(path), false, 'the file is deleted');
    await assertProblem(await api.get(`/api/sessions/${grant.sessionId}/recording`, admin), 404, 'NOT_FOUND');
  });
});

describe('recording export', () => {
  let h: Awaited<ReturnType<typeof harness>>;

  before(async () => {
    h = await harness();
  });
  after(async () => {
    await h.stop();
  });

  /** The recording file's records of one kind, decoded. */
  const recordsOf = (sessionId: string, kind: RecordingRecord['kind']) => {
    const decoded = decodeRecording(readFileSync(join(h.cp.dataDir, 'recordings', `${sessionId}.llrec`)));
    assert.ok(decoded.ok);
    return decoded.records.filter((record) => record.kind === kind);
  };

  it('the video exports as an MP4 that ffprobe reads as H.264 with every recorded frame, the packets unchanged', async () => {
    const { agent, operator, grant } = await h.pair(RECORDED);
    agent.send({ type: 'video-config', codec: 'avc1.42C00D', width: 320, height: 240, framerate: 30 });
    await operator.next('video-config');
    const units = new AccessUnitSplitter().push(
      encodeTestPattern('h264', 'repeat-headers=1:aud=1:scenecut=0'),
    );
    assert.ok(units.length >= FRAMES - 1, 'the test pattern splits into pictures');
    for (const [sequence, unit] of units.entries()) {
      await agent.sendBytes(encodeVideo({ ...unit, sequence, captureTime: Date.now() }));
      // Frames a few milliseconds apart, as a screen sends them.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await operator.until(() => operator.videos().length === units.length, 'every frame');
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    const view = await h.finishedRecording(grant.sessionId);
    assert.equal(view.frames, units.length);

    const response = await h.api.get(`/api/sessions/${grant.sessionId}/recording/export?format=mp4`, h.admin);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('content-type'), 'video/mp4');
    const file = join(h.cp.dataDir, 'export.mp4');
    writeFileSync(file, new Uint8Array(await response.arrayBuffer()));
    const probe = JSON.parse(
      execFileSync('ffprobe', [
        ...['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_data_hash', 'SHA256'],
        ...['-show_entries', 'stream=codec_name,width,height,nb_read_packets,duration:packet=data_hash'],
        ...['-of', 'json', file],
      ]).toString(),
    ) as {
      streams: {
        codec_name: string;
        width: number;
        height: number;
        nb_read_packets: string;
        duration: string;
      }[];
      packets: { data_hash: string }[];
    };
    const [stream] = probe.streams;
    assert.ok(stream);
    assert.equal(stream.codec_name, 'h264');
    assert.deepEqual([stream.width, stream.height], [320, 240]);
    assert.equal(Number(stream.nb_read_packets), view.frames, 'one sample per recorded frame');
    const videos = recordsOf(grant.sessionId, 'video');
    const span = (videos.at(-1)!.at - videos[0]!.at) / 1000;
    assert.ok(
      Math.abs(Number(stream.duration) - span) < 0.1,
      `the MP4 lasts as long as the recording's video (${stream.duration} s, ${span} s)`,
    );
    // MP4 stores NAL units behind their length instead of a start code; their bytes are the same.
    const expected = videos.map((record) => {
      const decoded = decodeFrame(record.payload);
      assert.ok(decoded.ok && decoded.frame.kind === 'video');
      const { data } = decoded.frame;
      const hash = createHash('sha256');
      for (const nal of nalUnits(data)) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(nal.end - nal.start);
        hash.update(length).update(data.subarray(nal.start, nal.end));
      }
      return `SHA256:${hash.digest('hex')}`;
    });
    assert.deepEqual(
      probe.packets.map((packet) => packet.data_hash),
      expected,
      'no re-encode',
    );
    const audit = await expectJson<Page<AuditEvent>>(
      await h.api.get(`/api/audit-events?sessionId=${grant.sessionId}&action=recording.export`, h.admin),
      200,
    );
    assert.deepEqual(
      audit.items.map((event) => event.details),
      [{ format: 'mp4' }],
    );
  });

  it("a shell's output exports as asciicast v2: the header, then its output and resizes in order, the bytes unchanged", async () => {
    const { agent, operator, grant } = await h.pair(RECORDED);
    const slot = (operator.messages('welcome')[0] as { slot: number }).slot;
    const channel = slot * 65_536 + 1;
    const command = slot * 65_536 + 2;
    operator.send({ type: 'shell-open', channel, cols: 100, rows: 30 });
    await agent.next('shell-open');
    const encoder = new TextEncoder();
    const euro = encoder.encode('€');
    const outputs = [
      encoder.encode('$ ls\r\n\u001b[1;34mdocs\u001b[0m  notes.txt\r\n'),
      // A character split across two frames.
      Uint8Array.of(...encoder.encode('price: '), euro[0]!),
      Uint8Array.of(euro[1]!, euro[2]!, ...encoder.encode('5\r\n')),
    ];
    const send = async (data: Uint8Array, on = channel, stream: number = ShellStream.terminal) => {
      const before = operator.shellData().length;
      await agent.sendBytes(encodeShellData({ channel: on, stream, data }));
      await operator.until(() => operator.shellData().length === before + 1, 'the output');
    };
    await send(outputs[0]!);
    await send(outputs[1]!);
    operator.send({ type: 'shell-resize', channel, cols: 120, rows: 40 });
    await agent.next('shell-resize');
    await send(outputs[2]!);
    // A command's output is not a terminal's: not in the recording.
    await send(encoder.encode('not a terminal\n'), command, ShellStream.stdout);
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    await h.finishedRecording(grant.sessionId);

    const response = await h.api.get(
      `/api/sessions/${grant.sessionId}/recording/export?format=asciicast`,
      h.admin,
    );
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-asciicast/);
    const lines = (await response.text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown);
    const [header, ...events] = lines as [
      { version: unknown; width: unknown; height: unknown; timestamp: unknown },
      ...[number, string, string][],
    ];
    assert.equal(header.version, 2);
    assert.equal(header.width, 100);
    assert.equal(header.height, 30);
    assert.equal(typeof header.timestamp, 'number');
    assert.deepEqual(
      events.map(([, code]) => code),
      ['o', 'o', 'r', 'o'],
    );
    assert.equal(events[2]![2], '120x40');
    const times = events.map(([at]) => at);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'events in order',
    );
    const output = Buffer.from(
      events
        .filter(([, code]) => code === 'o')
        .map(([, , text]) => text)
        .join(''),
    );
    assert.deepEqual(output, Buffer.concat(outputs), "the shell's output bytes");

    const byChannel = await h.api.get(
      `/api/sessions/${grant.sessionId}/recording/export?format=asciicast&channel=${channel}`,
      h.admin,
    );
    assert.equal(byChannel.status, 200);
    await byChannel.body?.cancel();
    await assertProblem(
      await h.api.get(
        `/api/sessions/${grant.sessionId}/recording/export?format=asciicast&channel=${command}`,
        h.admin,
      ),
      404,
      'NOT_FOUND',
    );
    await assertProblem(
      await h.api.get(`/api/sessions/${grant.sessionId}/recording/export?format=mp4`, h.admin),
      404,
      'NOT_FOUND',
    );
    await assertProblem(
      await h.api.get(`/api/sessions/${grant.sessionId}/recording/export?format=webm`, h.admin),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('an export is refused to whom may not play the recording', async () => {
    const { operator, grant } = await h.pair(RECORDED);
    operator.send({ type: 'end', reason: 'operator-ended' });
    await h.waitUntilEnded(grant.sessionId);
    await h.finishedRecording(grant.sessionId);
    const url = `/api/sessions/${grant.sessionId}/recording/export?format=asciicast`;
    const other = await expectJson<{ id: string }>(
      await h.api.post('/api/organisations', h.admin, { name: 'elsewhere' }),
      201,
    );
    const outsider = await createOperator(h.api, h.admin, {
      username: 'outsider',
      role: 'technician',
      organisationId: other.id,
    });
    await assertProblem(await h.api.get(url, { cookie: outsider.cookie }), 404, 'SESSION_NOT_FOUND');
    await assertProblem(
      await h.api.get(`/api/sessions/${grant.sessionId}/recording/content`, { cookie: outsider.cookie }),
      404,
      'SESSION_NOT_FOUND',
    );
    await assertProblem(await h.api.get(url, undefined), 401, 'UNAUTHENTICATED');
  });
});

describe('recordings left open by a server that stopped abruptly', () => {
  it('are closed at the next start with the size of their file', async () => {
    const h = await harness();
    try {
      const { services } = h.cp;
      const { session } = await expectJson<{ session: SessionView }>(
        await h.api.post('/api/sessions', h.admin, {}),
        201,
      );
      const recorder = await services.recordings.open(session.id, () => undefined);
      recorder.begin();
      recorder.event('session.consent');
      await waitFor(
        'the recording row',
        async () => (await services.recordings.get(session.id)) !== undefined,
        10_000,
      );
      // The file is written but never finished, and the session ends without the relay.
      await waitFor(
        'the recording written',
        () => statSync(join(h.cp.dataDir, 'recordings', `${session.id}.llrec`)).size === recorder.bytes,
        10_000,
      );
      await expectJson(await h.api.post(`/api/sessions/${session.id}/end`, h.admin), 200);
      assert.equal((await services.recordings.get(session.id))?.endedAt, null);
      assert.equal(await services.recordings.finishOrphans(), 1);
      const row = await services.recordings.get(session.id);
      assert.ok(row?.endedAt, 'the recording is closed');
      assert.ok(row.bytes > 0 && row.bytes === recorder.bytes, 'with the size of its file');
      await recorder.close();
    } finally {
      await h.stop();
    }
  });
});

describe('recorded sessions and a restart of the control plane', () => {
  it('a stop ends a session being recorded as server-shutdown, its recording finished', async () => {
    const h = await harness();
    try {
      const { agent, grant } = await h.pair(RECORDED);
      await h.cp.services.relay.shutdown();
      assert.equal((await agent.next('end')).reason, 'server-shutdown');
      assert.equal((await h.waitUntilEnded(grant.sessionId)).endReason, 'server-shutdown');
      assert.ok((await h.finishedRecording(grant.sessionId)).endedAt);
    } finally {
      await h.stop();
    }
  });

  it('a recorded session left open by a crash ends at the next start as server-restart, audited', async () => {
    const h = await harness();
    try {
      const { grant } = await h.pair(RECORDED);
      const { services } = h.cp;
      // The next run's relay finds the row open, as a kill -9 leaves it; its recording cannot go on.
      const next = new Relay({ ...services, agentGraceMs: 30_000 });
      try {
        const leftOpen = await services.store.leftOpen(services.node);
        assert.deepEqual(await next.resumeLeftOpen(leftOpen), { waiting: 0, ended: 1 });
      } finally {
        await next.shutdown();
      }
      assert.equal((await h.waitUntilEnded(grant.sessionId)).endReason, 'server-restart');
      const audit = await expectJson<Page<AuditEvent>>(
        await h.api.get(`/api/audit-events?sessionId=${grant.sessionId}&action=session.end`, h.admin),
        200,
      );
      assert.deepEqual(
        audit.items.map((event) => event.details),
        [{ reason: 'server-restart' }],
      );
    } finally {
      await h.stop();
    }
  });
});

describe('session recording when the disk fails', () => {
  it('a mandatory-recording session whose recording cannot be created ends with error and says why', async () => {
    const h = await harness();
    try {
      const key = await h.keyFor(RECORDED);
      // A file where the recordings folder should be: nothing can be created in it, even as root.
      rmSync(join(h.cp.dataDir, 'recordings'), { recursive: true, force: true });
      writeFileSync(join(h.cp.dataDir, 'recordings'), 'not a folder');
      const grant = await h.register(key);
      const agent = await RelayClient.connect(grant.relay.url, {
        hello: { role: 'agent', token: grant.relay.token },
      });
      const end = await agent.next('end');
      assert.equal(end.reason, 'error');
      assert.equal(end.message, RECORDING_FAILED_MESSAGE);
      assert.equal(agent.messages('welcome').length, 0, 'the session never started');
      const session = await h.waitUntilEnded(grant.sessionId);
      assert.equal(session.endReason, 'error');
      await agent.close();
    } finally {
      await h.stop();
    }
  });
});

describe('session recording when the disk fills up', () => {
  it('a mandatory-recording session whose recording cannot be written ends with error and says why', async () => {
    const h = await harness();
    try {
      const key = await h.keyFor(RECORDED);
      const grant = await h.register(key);
      // The recording file opens, but every write fails with ENOSPC, as on a full disk.
      mkdirSync(join(h.cp.dataDir, 'recordings'), { recursive: true });
      symlinkSync('/dev/full', join(h.cp.dataDir, 'recordings', `${grant.sessionId}.llrec`));
      const agent = await RelayClient.connect(grant.relay.url, {
        hello: { role: 'agent', token: grant.relay.token },
      });
      await agent.next('welcome');
      const redeemed = await expectJson<{ relay: { url: string; token: string } }>(
        await postRedeem(h.api, h.admin, grant.code),
        200,
      );
      const operator = await RelayClient.connect(redeemed.relay.url, {
        hello: { role: 'operator', token: redeemed.relay.token },
      });
      await agent.next('operator-joined');
      agent.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
      const end = await operator.next('end');
      assert.equal(end.reason, 'error');
      assert.equal(end.message, RECORDING_FAILED_MESSAGE);
      assert.equal((await agent.next('end')).message, RECORDING_FAILED_MESSAGE);
      const session = await h.waitUntilEnded(grant.sessionId);
      assert.equal(session.endReason, 'error');
      const audit = await expectJson<Page<AuditEvent>>(
        await h.api.get(`/api/audit-events?sessionId=${grant.sessionId}&action=session.end`, h.admin),
        200,
      );
      assert.equal(audit.items[0]?.details?.['message'], RECORDING_FAILED_MESSAGE, 'the audit says why');
      await agent.close();
      await operator.close();
    } finally {
      await h.stop();
    }
  });
});

/**
 * A file handle whose writes wait until the disk flows again: a disk that cannot keep up (the one
 * thing here not done with a real part: a real disk cannot be made slow on demand).
 */
function stalledHandle() {
  const written: Uint8Array[] = [];
  const pending: (() => void)[] = [];
  let flowing = false;
  let fail = false;
  const handle = {
    write(buffer: Uint8Array, offset: number, length: number) {
      return new Promise<{ bytesWritten: number }>((resolve, reject) => {
        const complete = () => {
          if (fail) reject(new Error('ENOSPC: no space left on device'));
          else {
            written.push(buffer.slice(offset, offset + length));
            resolve({ bytesWritten: length });
          }
        };
        if (flowing) complete();
        else pending.push(complete);
      });
    },
    close: async () => undefined,
  };
  return {
    handle: handle as unknown as FileHandle,
    written,
    /** Lets every write through from now on. */
    flow: () => {
      flowing = true;
      for (const complete of pending.splice(0)) complete();
    },
    /** Stalls writes again. */
    stall: () => {
      flowing = false;
    },
    failAll: () => {
      fail = true;
      for (const complete of pending.splice(0)) complete();
    },
  };
}

/** Lets queued background writes run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

describe('session recorder', () => {
  it('when the disk falls behind, video is dropped until the next keyframe and counted; memory stays bounded', async () => {
    const disk = stalledHandle();
    const recorder = new SessionRecorder({
      sessionId: 's',
      handle: disk.handle,
      onBegin: async () => undefined,
      onFailure: () => assert.fail('no failure expected'),
    });
    recorder.begin();
    const big = (sequence: number, keyframe: boolean) =>
      encodeVideo({ keyframe, sequence, captureTime: 0, data: new Uint8Array(1024 * 1024) });
    let wanted = false;
    for (let sequence = 0; sequence < 20; sequence++) wanted = recorder.video(big(sequence, sequence === 0));
    assert.equal(wanted, true, 'a keyframe is asked for');
    assert.ok(recorder.frames < 20 && recorder.frames >= 7, `${recorder.frames} frames kept`);
    assert.equal(recorder.droppedFrames, 20 - recorder.frames);
    disk.flow();
    await settle();
    const framesBefore = recorder.frames;
    assert.equal(recorder.video(big(20, false)), true, 'a delta frame after a drop is not recorded');
    assert.equal(recorder.frames, framesBefore);
    assert.equal(recorder.video(big(21, true)), false, 'the next keyframe is');
    assert.equal(recorder.frames, framesBefore + 1);
    const stats = await recorder.close();
    assert.equal(stats?.frames, framesBefore + 1);
    const file = Buffer.concat(disk.written);
    const decoded = decodeRecording(file);
    assert.ok(decoded.ok);
    assert.equal(decoded.records.filter((record) => record.kind === 'video').length, framesBefore + 1);
  });

  it('a write that fails reports the failure once and takes nothing more', async () => {
    const disk = stalledHandle();
    const failures: unknown[] = [];
    const recorder = new SessionRecorder({
      sessionId: 's',
      handle: disk.handle,
      onBegin: async () => undefined,
      onFailure: (error) => failures.push(error),
    });
    recorder.begin();
    recorder.event('session.consent');
    disk.failAll();
    await settle();
    assert.equal(failures.length, 1);
    assert.equal(recorder.recording, false);
    recorder.event('session.end');
    assert.equal(failures.length, 1);
  });
});
