import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SessionRecorder } from '../../control-plane/recordings/session-recorder.ts';
import { RECORDING_FAILED_MESSAGE, Relay } from '../../control-plane/relay/relay.ts';
import { sweepOnce } from '../../control-plane/sessions/housekeeping.ts';
import { ALL_PERMISSIONS, DEFAULT_POLICY, encodeVideo, type Policy } from '../../protocol/index.ts';
import { decodeRecording, type RecordingRecord, recordJson } from '../../protocol/recording.ts';
import {
  type ApiClient,
  type AuditEvent,
  apiClient,
  assertProblem,
  type Credentials,
  expectJson,
  freshAddress,
  type GroupView,
  type Page,
  type SessionView,
} from '../support/api.ts';
import { loginCookie, startControlPlane } from '../support/control-plane.ts';
import { RelayClient } from './relay-client.ts';

const RECORDED: Policy = { ...DEFAULT_POLICY, recordingMandatory: true };
const DAY_MS = 24 * 60 * 60_000;

interface AgentGrant {
  sessionId: string;
  code: string;
  relay: { url: string; token: string };
}

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
  const cp = await startControlPlane({ listen: true });
  const api = apiClient(cp);
  const admin: Credentials = { cookie: await loginCookie(cp.app) };
  const sockets: RelayClient[] = [];
  let unique = 0;

  async function keyFor(policy: Policy): Promise<string> {
    const group = await expectJson<GroupView>(
      await api.post('/api/groups', admin, { name: `recorded ${++unique}`, policy }),
      201,
    );
    const { registrationKey } = await expectJson<{ registrationKey: string }>(
      await api.post(`/api/groups/${group.id}/registration-key`, admin),
      200,
    );
    return registrationKey;
  }

  async function register(key: string): Promise<AgentGrant> {
    return expectJson<AgentGrant>(
      await api.post(
        '/api/agent/register',
        undefined,
        { name: 'test-agent', version: '0.0.0', registrationKey: key },
        { address: freshAddress() },
      ),
      201,
    );
  }

  /** The agent on the relay, an operator joined, and the agent's consent. */
  async function pair(policy: Policy) {
    const grant = await register(await keyFor(policy));
    const agent = await RelayClient.connect(grant.relay.url);
    sockets.push(agent);
    agent.hello('agent', grant.relay.token);
    await agent.next('welcome');
    const redeemed = await expectJson<{ relay: { url: string; token: string } }>(
      await api.post('/api/sessions/redeem', admin, { code: grant.code }, { address: freshAddress() }),
      200,
    );
    const operator = await RelayClient.connect(redeemed.relay.url);
    sockets.push(operator);
    operator.hello('operator', redeemed.relay.token);
    await operator.next('welcome');
    await agent.next('operator-joined');
    agent.send({ type: 'consent', accepted: true, permissions: ALL_PERMISSIONS });
    await operator.next('consent');
    return { agent, operator, grant };
  }

  async function waitUntilEnded(sessionId: string): Promise<SessionView> {
    const session = await expectJson<SessionView & { reached: boolean }>(
      await api.get(`/api/sessions/${sessionId}/wait?until=ended&timeout=10`, admin),
      200,
    );
    assert.equal(session.reached, true, 'the session ended');
    return session;
  }

  /** The recording's row once the relay has finished it. */
  async function finishedRecording(sessionId: string): Promise<RecordingView> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await api.get(`/api/sessions/${sessionId}/recording`, admin);
      if (response.status === 200) {
        const view = (await response.json()) as RecordingView;
        if (view.endedAt !== null) return view;
      } else {
        await response.body?.cancel();
      }
      if (Date.now() > deadline) throw new Error('the recording was not finished in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
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
      await eventuallyTrue(async () => (await services.recordings.get(session.id)) !== undefined);
      // The file is written but never finished, and the session ends without the relay.
      await eventuallyTrue(
        () => statSync(join(h.cp.dataDir, 'recordings', `${session.id}.llrec`)).size === recorder.bytes,
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

async function eventuallyTrue(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('session recording when the disk fails', () => {
  it('a mandatory-recording session whose recording cannot be created ends with error and says why', async () => {
    const h = await harness();
    try {
      const key = await h.keyFor(RECORDED);
      // A file where the recordings folder should be: nothing can be created in it, even as root.
      rmSync(join(h.cp.dataDir, 'recordings'), { recursive: true, force: true });
      writeFileSync(join(h.cp.dataDir, 'recordings'), 'not a folder');
      const grant = await h.register(key);
      const agent = await RelayClient.connect(grant.relay.url);
      agent.hello('agent', grant.relay.token);
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
      const agent = await RelayClient.connect(grant.relay.url);
      agent.hello('agent', grant.relay.token);
      await agent.next('welcome');
      const redeemed = await expectJson<{ relay: { url: string; token: string } }>(
        await h.api.post('/api/sessions/redeem', h.admin, { code: grant.code }, { address: freshAddress() }),
        200,
      );
      const operator = await RelayClient.connect(redeemed.relay.url);
      operator.hello('operator', redeemed.relay.token);
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
