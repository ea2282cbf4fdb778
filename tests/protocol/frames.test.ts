import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChannelIds,
  type ControlMessage,
  channelId,
  type DecodeResult,
  decodeFrame,
  encodeControl,
  encodeFileChunk,
  encodeShellData,
  encodeVideo,
  FILE_CHUNK_BYTES,
  FILE_HEADER_BYTES,
  FrameKind,
  isKeyframe,
  MAX_CLIPBOARD_CHARS,
  MAX_CONTROL_BYTES,
  MAX_SHELL_BYTES,
  MAX_VIDEO_BYTES,
  type MessageOf,
  PROTOCOL_VERSION,
  peekChannel,
  peekKind,
  SHELL_HEADER_BYTES,
  slotOf,
  VIDEO_HEADER_BYTES,
  type VideoFrame,
} from '../../protocol/index.ts';
import { permissionsWith } from '../support/permissions.ts';

const encoder = new TextEncoder();

/** A control frame carrying arbitrary bytes after the kind byte, as a hostile peer could send. */
function rawControl(payload: string | Uint8Array): Uint8Array {
  const body = typeof payload === 'string' ? encoder.encode(payload) : payload;
  const out = new Uint8Array(1 + body.byteLength);
  out[0] = FrameKind.control;
  out.set(body, 1);
  return out;
}

function controlJson(value: unknown): Uint8Array {
  return rawControl(JSON.stringify(value));
}

/** Asserts a refusal with a reason that matches `pattern`, and returns it. */
function assertRefused(result: DecodeResult, pattern: RegExp): { reason: string; tooLarge?: boolean } {
  assert.equal(result.ok, false, `expected a refusal, got ${JSON.stringify(result)}`);
  if (result.ok) throw new Error('unreachable');
  assert.equal(typeof result.reason, 'string');
  assert.match(result.reason, pattern);
  return result;
}

function decodeControl(bytes: Uint8Array): ControlMessage {
  const result = decodeFrame(bytes);
  assert.equal(result.ok, true, result.ok ? '' : result.reason);
  if (!result.ok || result.frame.kind !== 'control') throw new Error('not a control frame');
  return result.frame.message;
}

function decodeVideo(bytes: Uint8Array): VideoFrame {
  const result = decodeFrame(bytes);
  assert.equal(result.ok, true, result.ok ? '' : result.reason);
  if (!result.ok || result.frame.kind !== 'video') throw new Error('not a video frame');
  return result.frame;
}

const permissions = permissionsWith({ view: true, chat: true, shell: true });
const NO_WANT = permissionsWith({});

/** One message of every type, with optional fields both present and absent. */
const EVERY_MESSAGE: ControlMessage[] = [
  {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    role: 'agent',
    token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln',
    client: {
      name: 'lifeline-agent',
      version: '1.2.3',
      hostname: 'pc-042',
      os: 'linux',
      user: 'ana',
      screen: { width: 1920, height: 1080 },
    },
  },
  {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    role: 'operator',
    token: 't',
    client: { name: 'console', version: '1' },
  },
  { type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 'f1e2d3c4' },
  {
    type: 'welcome',
    protocol: PROTOCOL_VERSION,
    sessionId: 'f1e2d3c4',
    agent: { name: 'lifeline-agent', version: '1.2.3', os: 'windows' },
    permissions,
  },
  { type: 'error', code: 'CODE_EXPIRED', message: 'This code has expired.' },
  {
    type: 'operator-joined',
    operator: { id: 'op-1', name: 'Bea from the help desk' },
    requested: { ...permissions, control: true },
  },
  { type: 'operator-left', operatorId: 'op-1' },
  { type: 'operator-left', operatorId: 'op-1', slot: 2 },
  {
    type: 'operator-joined',
    operator: { id: 'tok-1', name: 'nightly-script (API)' },
    requested: { ...permissions, files: true },
    slot: 3,
  },
  { type: 'consent', accepted: true, permissions },
  { type: 'consent', accepted: false, permissions: { ...permissions, view: false } },
  { type: 'permissions', permissions: { ...permissions, control: true } },
  { type: 'permission-request', requested: { ...NO_WANT, files: true } },
  {
    type: 'permission-request',
    requested: { ...NO_WANT, shell: true, control: true },
    operator: { id: 'op-1', name: 'Bea from the help desk' },
  },
  { type: 'video-config', codec: 'avc1.42E01F', width: 1920, height: 1080, framerate: 30 },
  { type: 'request-keyframe' },
  { type: 'input', event: { kind: 'move', x: 0, y: 1 } },
  { type: 'input', event: { kind: 'move', x: 0.25, y: 0.75 } },
  { type: 'input', event: { kind: 'button', button: 'right', down: true, x: 0.5, y: 0.5 } },
  { type: 'input', event: { kind: 'wheel', dx: -50, dy: 50 } },
  { type: 'input', event: { kind: 'key', code: 'ShiftLeft', down: false } },
  { type: 'input', event: { kind: 'key', code: 'KeyE', key: 'é', down: true } },
  { type: 'end', reason: 'operator-ended' },
  { type: 'end', reason: 'error', message: 'The screen could not be captured.' },
  { type: 'welcome', protocol: PROTOCOL_VERSION, sessionId: 's', slot: 7 },
  { type: 'chat', id: 'c1', text: 'Hello, can you see my screen?' },
  {
    type: 'chat',
    id: 'c2',
    text: 'Yes.',
    from: { kind: 'operator', id: 'op-1', name: 'Bea' },
    sentAt: 1_700_000_000_000,
  },
  { type: 'channel-close', channel: 0x0001_0001 },
  { type: 'channel-error', channel: 0xffff_ffff, code: 'PATH_OUTSIDE_FOLDER', message: 'Outside.' },
  { type: 'shell-open', channel: 0x0002_0001, cols: 80, rows: 24 },
  { type: 'shell-opened', channel: 0x0002_0001, shell: '/bin/bash' },
  { type: 'shell-resize', channel: 0x0002_0001, cols: 200, rows: 50 },
  { type: 'shell-exit', channel: 0x0002_0001, exitCode: 0, signal: null },
  {
    type: 'shell-exit',
    channel: 0x0002_0002,
    exitCode: null,
    signal: 'SIGKILL',
    timedOut: true,
    truncated: false,
    durationMs: 1500,
  },
  {
    type: 'exec',
    channel: 0x0002_0003,
    command: 'uname -a',
    cwd: 'projects',
    timeoutMs: 5000,
    maxOutputBytes: 1024,
  },
  { type: 'file-list', channel: 0x0003_0001, path: '' },
  { type: 'file-list', channel: 0x0003_0001, path: 'Documents', offset: 300 },
  {
    type: 'file-listing',
    channel: 0x0003_0001,
    path: 'Documents',
    root: '/home/ana',
    offset: 0,
    total: 2,
    entries: [
      { name: 'report.pdf', type: 'file', size: 1234, modifiedAt: 1_700_000_000_000 },
      { name: 'old', type: 'directory', size: 0, modifiedAt: 1_600_000_000_000 },
    ],
  },
  { type: 'file-read', channel: 0x0003_0002, path: 'a.txt', offset: 0 },
  { type: 'file-info', channel: 0x0003_0002, path: 'a.txt', size: 10, modifiedAt: 5 },
  { type: 'file-write', channel: 0x0003_0003, path: 'b.bin', size: 1 << 20, overwrite: false },
  { type: 'file-ready', channel: 0x0003_0003, offset: 65536 },
  { type: 'file-ack', channel: 0x0003_0003, offset: 131072 },
  { type: 'file-end', channel: 0x0003_0003, size: 1 << 20, sha256: 'a'.repeat(64) },
  { type: 'file-done', channel: 0x0003_0003, path: 'b.bin', size: 1 << 20 },
  { type: 'file-op', channel: 0x0003_0004, op: 'rename', path: 'b.bin', to: 'c.bin' },
  { type: 'file-op', channel: 0x0003_0005, op: 'mkdir', path: 'new' },
  { type: 'file-op-done', channel: 0x0003_0005 },
  {
    type: 'monitors',
    monitors: [
      { name: 'DP-1', x: 0, y: 0, width: 1920, height: 1080, primary: true },
      { name: 'HDMI-1', x: 1920, y: 0, width: 1280, height: 1024, primary: false },
    ],
    selected: 1,
  },
  { type: 'monitors', monitors: [], selected: null },
  { type: 'select-monitor', monitor: 0 },
  { type: 'select-monitor', monitor: null },
  { type: 'clipboard', text: 'copied text' },
  { type: 'clipboard', text: '', tooLong: 20_000 },
  { type: 'ping', id: 7 },
  { type: 'pong', id: 0xffff_ffff, slot: 3 },
];

describe('control frames', () => {
  it('every control message type survives an encode/decode round trip unchanged', () => {
    const types = new Set<string>();
    for (const message of EVERY_MESSAGE) {
      const bytes = encodeControl(message);
      assert.equal(bytes[0], FrameKind.control);
      assert.equal(peekKind(bytes), FrameKind.control);
      assert.deepEqual(decodeControl(bytes), message);
      types.add(message.type);
    }
    // Guards the list above: a message type added to the protocol must be added here too.
    assert.deepEqual([...types].sort(), [
      'channel-close',
      'channel-error',
      'chat',
      'clipboard',
      'consent',
      'end',
      'error',
      'exec',
      'file-ack',
      'file-done',
      'file-end',
      'file-info',
      'file-list',
      'file-listing',
      'file-op',
      'file-op-done',
      'file-read',
      'file-ready',
      'file-write',
      'hello',
      'input',
      'monitors',
      'operator-joined',
      'operator-left',
      'permission-request',
      'permissions',
      'ping',
      'pong',
      'request-keyframe',
      'select-monitor',
      'shell-exit',
      'shell-open',
      'shell-opened',
      'shell-resize',
      'video-config',
      'welcome',
    ]);
  });

  it('a frame given as an ArrayBuffer, a DataView or a view at an offset decodes alike', () => {
    const message: MessageOf<'consent'> = { type: 'consent', accepted: true, permissions };
    const bytes = encodeControl(message);
    const padded = new Uint8Array(bytes.byteLength + 7);
    padded.set(bytes, 3);
    assert.deepEqual(decodeControl(new Uint8Array(bytes.slice().buffer) as Uint8Array), message);
    const fromBuffer = decodeFrame(bytes.slice().buffer);
    assert.ok(fromBuffer.ok && fromBuffer.frame.kind === 'control');
    assert.deepEqual(fromBuffer.frame.message, message);
    const fromView = decodeFrame(new DataView(padded.buffer, 3, bytes.byteLength));
    assert.ok(fromView.ok && fromView.frame.kind === 'control');
    assert.deepEqual(fromView.frame.message, message);
    assert.deepEqual(decodeControl(padded.subarray(3, 3 + bytes.byteLength)), message);
  });

  it('unknown fields are dropped, so a newer peer may add fields without breaking older ones', () => {
    const message = decodeControl(controlJson({ type: 'request-keyframe', reason: 'newer field' }));
    assert.deepEqual(message, { type: 'request-keyframe' });
  });

  it('a control message of exactly MAX_CONTROL_BYTES is accepted', () => {
    const base = JSON.stringify({ type: 'end', reason: 'error', message: '' });
    // Pad with JSON whitespace: the message field is capped at 1000 characters by the schema.
    const padding = ' '.repeat(MAX_CONTROL_BYTES - base.length);
    const message = decodeControl(rawControl(base + padding));
    assert.deepEqual(message, { type: 'end', reason: 'error', message: '' });
  });

  it('a control message one byte over MAX_CONTROL_BYTES is refused as too large', () => {
    const base = JSON.stringify({ type: 'end', reason: 'error' });
    const bytes = rawControl(base + ' '.repeat(MAX_CONTROL_BYTES - base.length + 1));
    const refused = assertRefused(decodeFrame(bytes), /exceeds/);
    assert.equal(refused.tooLarge, true);
  });
});

describe('video frames', () => {
  const data = new Uint8Array([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33]);

  it('a keyframe round-trips with its flag, sequence, capture time and bytes', () => {
    const captureTime = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const bytes = encodeVideo({ keyframe: true, sequence: 7, captureTime, data });
    assert.equal(bytes.byteLength, VIDEO_HEADER_BYTES + data.byteLength);
    assert.equal(peekKind(bytes), FrameKind.video);
    assert.equal(isKeyframe(bytes), true);
    const frame = decodeVideo(bytes);
    assert.deepEqual(
      { keyframe: frame.keyframe, sequence: frame.sequence, captureTime: frame.captureTime },
      { keyframe: true, sequence: 7, captureTime },
    );
    assert.deepEqual([...frame.data], [...data]);
  });

  it('a delta frame round-trips with the keyframe flag off', () => {
    const bytes = encodeVideo({ keyframe: false, sequence: 8, captureTime: 1, data });
    assert.equal(isKeyframe(bytes), false);
    const frame = decodeVideo(bytes);
    assert.equal(frame.keyframe, false);
    assert.equal(frame.sequence, 8);
  });

  it('sequences 0 and 2^32-1 round-trip, and 2^32 wraps to 0', () => {
    for (const sequence of [0, 1, 2 ** 31, 2 ** 32 - 1]) {
      assert.equal(
        decodeVideo(encodeVideo({ keyframe: false, sequence, captureTime: 0, data })).sequence,
        sequence,
      );
    }
    assert.equal(
      decodeVideo(encodeVideo({ keyframe: false, sequence: 2 ** 32, captureTime: 0, data })).sequence,
      0,
    );
    assert.equal(
      decodeVideo(encodeVideo({ keyframe: false, sequence: 2 ** 32 + 5, captureTime: 0, data })).sequence,
      5,
    );
  });

  it('a sub-millisecond capture time keeps its precision', () => {
    const captureTime = 1_767_225_600_000.125;
    assert.equal(
      decodeVideo(encodeVideo({ keyframe: true, sequence: 1, captureTime, data })).captureTime,
      captureTime,
    );
  });

  it('a video frame inside a larger buffer, at an offset, decodes to its own bytes', () => {
    const bytes = encodeVideo({ keyframe: true, sequence: 3, captureTime: 42, data });
    const padded = new Uint8Array(bytes.byteLength + 5);
    padded.set(bytes, 5);
    const frame = decodeVideo(padded.subarray(5));
    assert.equal(frame.sequence, 3);
    assert.equal(frame.captureTime, 42);
    assert.deepEqual([...frame.data], [...data]);
  });

  it('an access unit of exactly MAX_VIDEO_BYTES is accepted', () => {
    const big = new Uint8Array(MAX_VIDEO_BYTES);
    big[MAX_VIDEO_BYTES - 1] = 0xab;
    const frame = decodeVideo(encodeVideo({ keyframe: true, sequence: 1, captureTime: 1, data: big }));
    assert.equal(frame.data.byteLength, MAX_VIDEO_BYTES);
    assert.equal(frame.data[MAX_VIDEO_BYTES - 1], 0xab);
  });

  it('an access unit over MAX_VIDEO_BYTES is refused as too large', () => {
    const bytes = encodeVideo({
      keyframe: true,
      sequence: 1,
      captureTime: 1,
      data: new Uint8Array(MAX_VIDEO_BYTES + 1),
    });
    const refused = assertRefused(decodeFrame(bytes), /too large/);
    assert.equal(refused.tooLarge, true);
  });
});

describe('malformed frames are refused with a reason and never throw', () => {
  const video = encodeVideo({
    keyframe: true,
    sequence: 1,
    captureTime: 1000,
    data: new Uint8Array([1, 2, 3]),
  });

  it('an empty frame is refused', () => {
    assertRefused(decodeFrame(new Uint8Array(0)), /empty/);
    assertRefused(decodeFrame(new ArrayBuffer(0)), /empty/);
  });

  it('an unknown or reserved frame kind is refused, naming the kind', () => {
    for (const kind of [0x00, 0x05, 0x7f, 0xff]) {
      assertRefused(
        decodeFrame(new Uint8Array([kind, 0x7b, 0x7d])),
        new RegExp(`unknown frame kind ${kind}\\b`),
      );
    }
  });

  it('a video frame shorter than its header is refused as truncated', () => {
    for (let length = 1; length < VIDEO_HEADER_BYTES; length++) {
      assertRefused(decodeFrame(video.subarray(0, length)), /truncated/);
    }
  });

  it('a video frame with a header and no access unit is refused', () => {
    assertRefused(decodeFrame(video.subarray(0, VIDEO_HEADER_BYTES)), /empty video/);
  });

  it('a video frame with unknown flag bits is refused, naming the flags', () => {
    for (const flags of [0x02, 0x03, 0x80, 0xff]) {
      const bytes = video.slice();
      bytes[1] = flags;
      assertRefused(decodeFrame(bytes), new RegExp(`unknown video flags ${flags}\\b`));
    }
  });

  it('a video frame whose capture time is NaN, infinite or negative is refused', () => {
    for (const captureTime of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1]) {
      const bytes = video.slice();
      new DataView(bytes.buffer).setFloat64(6, captureTime);
      assertRefused(decodeFrame(bytes), /capture time/);
    }
  });

  it('a control frame with no body, or bytes that are not UTF-8, is refused', () => {
    assertRefused(decodeFrame(new Uint8Array([FrameKind.control])), /not UTF-8 JSON/);
    for (const bad of [
      [0xff, 0xfe],
      [0x7b, 0xc3, 0x28, 0x7d], // an invalid two-byte sequence
      [0x22, 0xed, 0xa0, 0x80, 0x22], // an encoded UTF-16 surrogate
      [0x22, 0xe2, 0x82, 0x22], // a truncated three-byte sequence
    ]) {
      assertRefused(decodeFrame(rawControl(new Uint8Array(bad))), /not UTF-8 JSON/);
    }
  });

  it("a console's receipt and the relay's backlog carry whether the console is behind, or say nothing of it", () => {
    for (const message of [
      { type: 'video-received', bytes: 1_000, behind: true },
      { type: 'video-received', bytes: 1_000, behind: false },
      { type: 'video-received', bytes: 1_000 },
      { type: 'video-backlog', bytes: 0, ms: 40, behind: true },
      { type: 'video-backlog', bytes: 0, ms: 40 },
    ] as const) {
      assert.deepEqual(decodeControl(encodeControl(message)), message);
    }
  });

  it('a receipt or a backlog whose behind is not a boolean is refused naming the field', () => {
    for (const behind of ['yes', 1, 0, null, 'true', {}]) {
      assertRefused(decodeFrame(controlJson({ type: 'video-received', bytes: 1_000, behind })), /behind/);
      assertRefused(decodeFrame(controlJson({ type: 'video-backlog', bytes: 0, ms: 40, behind })), /behind/);
    }
  });

  it('a control frame that is UTF-8 but not JSON is refused', () => {
    for (const text of ['{', '{type: "hello"}', "{'type':'end'}", 'undefined', 'NaN', '{"type":"end",}']) {
      assertRefused(decodeFrame(rawControl(text)), /not UTF-8 JSON/);
    }
  });

  it('JSON that is not an object is refused as an invalid control message', () => {
    for (const value of [null, 42, 'hello', true, [], [{ type: 'end', reason: 'error' }]]) {
      assertRefused(decodeFrame(controlJson(value)), /invalid control message/);
    }
  });

  it('JSON of an unknown type, or with no type, is refused naming the type field', () => {
    for (const value of [
      { type: 'whisper', text: 'hi' },
      { type: 'HELLO' },
      { type: '__proto__' },
      { type: 'constructor' },
      { type: 'toString' },
      { type: 1 },
      { reason: 'error' },
    ]) {
      assertRefused(decodeFrame(controlJson(value)), /invalid control message at type/);
    }
    assertRefused(decodeFrame(rawControl('{"__proto__":{"type":"end","reason":"error"}}')), /type/);
  });

  it('a known type with a missing field is refused naming that field', () => {
    const hello = {
      type: 'hello',
      protocol: 1,
      role: 'agent',
      token: 'x',
      client: { name: 'a', version: '1' },
    };
    for (const field of ['protocol', 'role', 'token', 'client'] as const) {
      const { [field]: _removed, ...rest } = hello;
      assertRefused(decodeFrame(controlJson(rest)), new RegExp(`at ${field}:`));
    }
    assertRefused(decodeFrame(controlJson({ type: 'consent', accepted: true })), /at permissions:/);
    assertRefused(
      decodeFrame(controlJson({ type: 'consent', accepted: true, permissions: { view: true } })),
      /at permissions\.control:/,
    );
    assertRefused(decodeFrame(controlJson({ type: 'input' })), /at event:/);
  });

  it('a known type with an ill-typed field is refused naming that field', () => {
    const cases: [unknown, RegExp][] = [
      [
        { type: 'hello', protocol: '1', role: 'agent', token: 'x', client: { name: 'a', version: '1' } },
        /at protocol:/,
      ],
      [
        { type: 'hello', protocol: 1.5, role: 'agent', token: 'x', client: { name: 'a', version: '1' } },
        /at protocol:/,
      ],
      [
        { type: 'hello', protocol: 1, role: 'admin', token: 'x', client: { name: 'a', version: '1' } },
        /at role:/,
      ],
      [
        { type: 'hello', protocol: 1, role: 'agent', token: '', client: { name: 'a', version: '1' } },
        /at token:/,
      ],
      [
        {
          type: 'hello',
          protocol: 1,
          role: 'agent',
          token: 'x'.repeat(8193),
          client: { name: 'a', version: '1' },
        },
        /at token:/,
      ],
      [{ type: 'consent', accepted: 'yes', permissions }, /at accepted:/],
      [{ type: 'error', code: 'NOT_A_CODE', message: 'x' }, /at code:/],
      [{ type: 'end', reason: 'bored' }, /at reason:/],
      [{ type: 'video-config', codec: 'avc1', width: 0, height: 1080, framerate: 30 }, /at width:/],
      [{ type: 'video-config', codec: 'avc1', width: 1920, height: 16385, framerate: 30 }, /at height:/],
      [{ type: 'video-config', codec: 'avc1', width: 1920, height: 1080, framerate: 241 }, /at framerate:/],
      [{ type: 'input', event: { kind: 'teleport', x: 0, y: 0 } }, /at event\.kind:/],
      [
        { type: 'input', event: { kind: 'button', button: 'fourth', down: true, x: 0, y: 0 } },
        /at event\.button:/,
      ],
      [{ type: 'input', event: { kind: 'key', code: '', down: true } }, /at event\.code:/],
      [{ type: 'input', event: { kind: 'key', code: 'K'.repeat(33), down: true } }, /at event\.code:/],
      [{ type: 'input', event: { kind: 'key', code: 'KeyA', key: '', down: true } }, /at event\.key:/],
    ];
    for (const [value, pattern] of cases) assertRefused(decodeFrame(controlJson(value)), pattern);
  });

  it('pointer coordinates outside 0..1 and wheel steps outside ±50 are refused', () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: 'move', x: 1.0001, y: 0.5 }, /at event\.x:/],
      [{ kind: 'move', x: -0.01, y: 0.5 }, /at event\.x:/],
      [{ kind: 'move', x: 0.5, y: 2 }, /at event\.y:/],
      [{ kind: 'move', x: 0.5, y: -1e-9 }, /at event\.y:/],
      [{ kind: 'button', button: 'left', down: true, x: 10, y: 0 }, /at event\.x:/],
      [{ kind: 'wheel', dx: 51, dy: 0 }, /at event\.dx:/],
      [{ kind: 'wheel', dx: 0, dy: -51 }, /at event\.dy:/],
      [{ kind: 'wheel', dx: 0.5, dy: 0 }, /at event\.dx:/],
    ];
    for (const [event, pattern] of cases) {
      assertRefused(decodeFrame(controlJson({ type: 'input', event })), pattern);
    }
    // JSON has no NaN or Infinity; these arrive as null or as huge numbers.
    assertRefused(
      decodeFrame(rawControl('{"type":"input","event":{"kind":"move","x":1e400,"y":0}}')),
      /event\.x/,
    );
    assertRefused(
      decodeFrame(controlJson({ type: 'input', event: { kind: 'move', x: Number.NaN, y: 0 } })),
      /event\.x/,
    );
  });

  it('deeply nested JSON is refused without overflowing the stack', () => {
    const depth = Math.floor((MAX_CONTROL_BYTES - 2) / 2);
    assertRefused(
      decodeFrame(rawControl(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
      /invalid control message/,
    );
    const nestedClient = `{"type":"hello","protocol":1,"role":"agent","token":"x","client":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    assertRefused(decodeFrame(rawControl(nestedClient)), /at client\.name:/);
  });
});

/** A small deterministic generator (mulberry32), so a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function checkedDecode(bytes: Uint8Array, seed: number, round: number): DecodeResult {
  let result: DecodeResult;
  try {
    result = decodeFrame(bytes);
  } catch (error) {
    assert.fail(
      `decodeFrame threw on seed ${seed}, round ${round} (${[...bytes.subarray(0, 32)]}): ${error}`,
    );
  }
  assert.equal(typeof result.ok, 'boolean');
  if (!result.ok) assert.ok(result.reason.length > 0, `empty reason on seed ${seed}, round ${round}`);
  return result;
}

describe('fuzzing', () => {
  const seed = 0x11fe11e;
  const valid = [
    ...EVERY_MESSAGE.map(encodeControl),
    encodeVideo({ keyframe: true, sequence: 9, captureTime: 5, data: new Uint8Array(40) }),
  ];

  it('random byte arrays never make the decoder throw', () => {
    const random = prng(seed);
    let accepted = 0;
    for (let round = 0; round < 5_000; round++) {
      const length = Math.floor(random() * 300);
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
      // Most rounds start with a real kind byte, so the fuzz reaches past the first check.
      if (length > 0 && random() < 0.8) bytes[0] = random() < 0.5 ? FrameKind.control : FrameKind.video;
      if (checkedDecode(bytes, seed, round).ok) accepted++;
    }
    // Random bytes almost never make a valid control message; random video payloads often are valid.
    assert.ok(accepted < 5_000);
  });

  it('valid frames with random bytes flipped, cut or appended never make the decoder throw', () => {
    const random = prng(seed + 1);
    for (let round = 0; round < 5_000; round++) {
      const original = valid[Math.floor(random() * valid.length)]!;
      let bytes = original.slice();
      const mutation = Math.floor(random() * 3);
      if (mutation === 0) {
        for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        }
      } else if (mutation === 1) {
        bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      } else {
        const extra = new Uint8Array(bytes.length + 1 + Math.floor(random() * 8));
        extra.set(bytes);
        for (let i = bytes.length; i < extra.length; i++) extra[i] = Math.floor(random() * 256);
        bytes = extra;
      }
      checkedDecode(bytes, seed, round);
    }
  });
});

describe('channel frames', () => {
  it('a file chunk round-trips with its channel, a large offset and its bytes', () => {
    const data = new Uint8Array([9, 8, 7, 6]);
    const bytes = encodeFileChunk({ channel: 0xffff_0001, offset: 2 ** 40 + 3, data });
    assert.equal(bytes[0], FrameKind.file);
    assert.equal(peekChannel(bytes), 0xffff_0001);
    const result = decodeFrame(bytes);
    assert.ok(result.ok && result.frame.kind === 'file');
    assert.equal(result.frame.channel, 0xffff_0001);
    assert.equal(result.frame.offset, 2 ** 40 + 3);
    assert.deepEqual([...result.frame.data], [9, 8, 7, 6]);
  });

  it('shell data round-trips with its channel and stream', () => {
    const bytes = encodeShellData({ channel: 0x0001_0002, stream: 2, data: encoder.encode('oops') });
    assert.equal(peekChannel(bytes), 0x0001_0002);
    const result = decodeFrame(bytes);
    assert.ok(result.ok && result.frame.kind === 'shell');
    assert.equal(result.frame.stream, 2);
    assert.equal(new TextDecoder().decode(result.frame.data), 'oops');
  });

  it('channel frames that are truncated, empty, oversized, slotless or on an unknown stream are refused', () => {
    const chunk = encodeFileChunk({ channel: 0x0001_0001, offset: 0, data: new Uint8Array([1]) });
    for (let length = 1; length < FILE_HEADER_BYTES; length++) {
      assertRefused(decodeFrame(chunk.subarray(0, length)), /truncated file header/);
    }
    assertRefused(decodeFrame(chunk.subarray(0, FILE_HEADER_BYTES)), /empty file chunk/);
    const big = encodeFileChunk({
      channel: 0x0001_0001,
      offset: 0,
      data: new Uint8Array(FILE_CHUNK_BYTES + 1),
    });
    assert.equal(assertRefused(decodeFrame(big), /too large/).tooLarge, true);
    assertRefused(
      decodeFrame(encodeFileChunk({ channel: 5, offset: 0, data: new Uint8Array([1]) })),
      /invalid channel 5/,
    );
    const negative = chunk.slice();
    new DataView(negative.buffer).setFloat64(5, -1);
    assertRefused(decodeFrame(negative), /invalid file offset/);
    const fractional = chunk.slice();
    new DataView(fractional.buffer).setFloat64(5, 1.5);
    assertRefused(decodeFrame(fractional), /invalid file offset/);

    const shell = encodeShellData({ channel: 0x0001_0001, stream: 0, data: new Uint8Array([1]) });
    for (let length = 1; length < SHELL_HEADER_BYTES; length++) {
      assertRefused(decodeFrame(shell.subarray(0, length)), /truncated shell header/);
    }
    assertRefused(decodeFrame(shell.subarray(0, SHELL_HEADER_BYTES)), /empty shell data/);
    const stream = shell.slice();
    stream[5] = 3;
    assertRefused(decodeFrame(stream), /unknown shell stream 3/);
    const huge = encodeShellData({
      channel: 0x0001_0001,
      stream: 0,
      data: new Uint8Array(MAX_SHELL_BYTES + 1),
    });
    assert.equal(assertRefused(decodeFrame(huge), /too large/).tooLarge, true);
    assert.equal(peekChannel(new Uint8Array([FrameKind.file, 0, 1])), undefined);
  });

  it('a control message naming a channel below 0x10000 (no slot) is refused', () => {
    assertRefused(decodeFrame(controlJson({ type: 'channel-close', channel: 0xffff })), /channel/);
  });

  it('channel ids carry their slot, and ChannelIds never hands out one in use', () => {
    assert.equal(slotOf(channelId(3, 9)), 3);
    assert.throws(() => channelId(0, 1), RangeError);
    assert.throws(() => channelId(1, 0x10000), RangeError);
    const ids = new ChannelIds(4);
    const first = ids.next();
    assert.equal(slotOf(first), 4);
    const seen = new Set([first]);
    for (let i = 1; i < 0xffff; i++) seen.add(ids.next());
    assert.equal(seen.size, 0xffff);
    assert.throws(() => ids.next(), /in use/);
    ids.release(first);
    assert.equal(ids.next(), first);
  });
});

describe('the clipboard in the protocol', () => {
  it('permissions from a peer older than the clipboard decode with the clipboard not allowed', () => {
    const old = { view: true, control: true, chat: true, files: false, shell: false };
    const message = decodeControl(controlJson({ type: 'permissions', permissions: old }));
    assert.deepEqual(message, {
      type: 'permissions',
      permissions: { ...old, clipboard: false, guidance: false },
    });
  });

  it('clipboard text of the largest size fits one control message, even when every character is escaped', () => {
    const text = '\u0001'.repeat(MAX_CLIPBOARD_CHARS);
    const bytes = encodeControl({ type: 'clipboard', text });
    assert.ok(bytes.byteLength - 1 <= MAX_CONTROL_BYTES, `${bytes.byteLength} bytes`);
    assert.deepEqual(decodeControl(bytes), { type: 'clipboard', text });
  });

  it('clipboard text past the limit is refused', () => {
    const text = 'x'.repeat(MAX_CLIPBOARD_CHARS + 1);
    assertRefused(decodeFrame(controlJson({ type: 'clipboard', text })), /invalid control message at text/);
  });
});
