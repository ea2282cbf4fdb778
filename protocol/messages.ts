import { z } from 'zod';
import { MAX_CLIPBOARD_CHARS, MAX_MONITORS } from './channels.ts';
import { MAX_STROKE_POINTS } from './guidance.ts';
import { END_REASONS, RESULT_CODES } from './result-codes.ts';

/**
 * The JSON control messages: one envelope, a discriminated union on `type`.
 * Evolve by adding only: never remove a message or change the meaning of a field.
 */

const permissionsSchema = z.object({
  view: z.boolean(),
  control: z.boolean(),
  chat: z.boolean(),
  files: z.boolean(),
  shell: z.boolean(),
  /** Absent from peers older than the clipboard: not allowed. */
  clipboard: z.boolean().default(false),
  /** Absent from peers older than guidance: not allowed. */
  guidance: z.boolean().default(false),
});

const unit = z.number().min(0).max(1);

/**
 * Longest side of a cursor image the agent sends, in pixels: cursor themes use 24–64, and a 96×96
 * RGBA image in base64 (48 KB) still fits a control message. A larger cursor is not sent.
 */
export const MAX_CURSOR_SIDE = 96;

const inputEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('move'), x: unit, y: unit }),
  z.object({
    kind: z.literal('button'),
    button: z.enum(['left', 'middle', 'right']),
    down: z.boolean(),
    x: unit,
    y: unit,
  }),
  z.object({
    kind: z.literal('wheel'),
    dx: z.number().int().min(-50).max(50),
    dy: z.number().int().min(-50).max(50),
  }),
  z.object({
    kind: z.literal('key'),
    code: z.string().min(1).max(32),
    key: z.string().min(1).max(32).optional(),
    down: z.boolean(),
  }),
]);

const point = z.object({ x: unit, y: unit });

/** One guidance mark (guidance.ts), in the same normalised screen coordinates as input. */
const guidanceMarkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('pointer'), at: point }),
  z.object({ kind: z.literal('arrow'), from: point, to: point }),
  z.object({ kind: z.literal('circle'), center: point, edge: point }),
  z.object({ kind: z.literal('stroke'), points: z.array(point).min(1).max(MAX_STROKE_POINTS) }),
  z.object({ kind: z.literal('clear') }),
]);

const peerInfoSchema = z.object({
  name: z.string().max(200),
  version: z.string().max(50),
  hostname: z.string().max(255).optional(),
  os: z.string().max(100).optional(),
  user: z.string().max(255).optional(),
  screen: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
  /** What this agent build can do beyond the screen: 'chat', 'files', 'shell', 'exec'. Absent: none. */
  features: z.array(z.string().max(32)).max(32).optional(),
});

const operatorInfoSchema = z.object({ id: z.string().max(64), name: z.string().max(200) });

/** An operator connection's slot in its session (channels.ts): how several operators are told apart. */
const slot = z.number().int().min(1).max(0xffff);

/** A channel id: the owner's slot in the high 16 bits, its own number in the low 16 (channels.ts). */
const channel = z.number().int().min(0x10000).max(0xffffffff);

/**
 * A path inside the folder the agent shares, relative to it, with `/` separators on every OS
 * (`''` is the folder itself). The agent resolves it and refuses anything that leaves the folder.
 */
const sharedPath = z.string().max(4096);

const fileEntrySchema = z.object({
  name: z.string().max(1024),
  type: z.enum(['file', 'directory', 'link', 'other']),
  size: z.number().int().min(0),
  /** Milliseconds since the Unix epoch. */
  modifiedAt: z.number().min(0),
});

const chatAuthorSchema = z.object({
  kind: z.enum(['operator', 'user']),
  /** The operator's id; absent for the end user. */
  id: z.string().max(64).optional(),
  name: z.string().max(200),
});

/** One monitor of the device's desktop, in the desktop's pixels (the x11grab / RandR layout). */
const monitorSchema = z.object({
  name: z.string().max(64),
  x: z.number().int().min(0).max(65535),
  y: z.number().int().min(0).max(65535),
  width: z.number().int().positive().max(16384),
  height: z.number().int().positive().max(16384),
  primary: z.boolean(),
});

/**
 * The one application window the end user shares instead of the desktop (README "Sharing one
 * window"): its title, for display only, and whether it is hidden now (unmapped or minimised), when
 * no picture is sent at all.
 */
const sharedWindowSchema = z.object({
  title: z.string().max(200),
  hidden: z.boolean(),
});

/** An index into the agent's `monitors` list, or null for all of them (the whole desktop). */
const monitorChoice = z
  .number()
  .int()
  .min(0)
  .max(MAX_MONITORS - 1)
  .nullable();

const pingId = z.number().int().min(0).max(0xffffffff);
const slotField = z.number().int().min(1).max(0xffff);

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/**
 * What an operator prefers when the link cannot carry every picture: `speed` keeps the picture
 * current (fewer pictures as soon as video queues up), `quality` keeps motion smoother (more
 * pictures, with more delay before the frame rate is cut).
 */
export const VIDEO_PREFERENCES = ['speed', 'quality'] as const;
export type VideoPreference = (typeof VIDEO_PREFERENCES)[number];
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const frameRate = z.number().min(0).max(240);

/** One operator connection the end user let in, as the agent and every operator see it. */
const participantSchema = z.object({
  slot,
  id: z.string().max(64),
  name: z.string().max(200),
  /** Their guidance colour's index (guidance.ts `guidanceColour`); absent from older relays. */
  colour: z.number().int().min(0).max(0xffff).optional(),
});

/** Every control message of protocol version 1. */
export const controlMessageSchema = z.discriminatedUnion('type', [
  // First message from every participant. The token says who it is and which session it may join.
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int().positive(),
    role: z.enum(['agent', 'operator']),
    token: z.string().min(1).max(8192),
    client: peerInfoSchema,
  }),
  // The relay accepted the hello.
  z.object({
    type: z.literal('welcome'),
    protocol: z.number().int().positive(),
    sessionId: z.string().max(64),
    agent: peerInfoSchema.optional(),
    permissions: permissionsSchema.optional(),
    /** Operators only: the high 16 bits of every channel id this connection opens (channels.ts). */
    slot: slot.optional(),
    /**
     * The relay answers `heartbeat`: send one this often (in seconds) and take the relay for gone when
     * nothing at all came back for two intervals (heartbeat.ts). Absent from relays that predate it.
     */
    heartbeatSeconds: z.number().positive().max(300).optional(),
  }),
  z.object({ type: z.literal('error'), code: z.enum(RESULT_CODES), message: z.string().max(1000) }),
  // Relay -> agent: an operator wants in.
  z.object({
    type: z.literal('operator-joined'),
    operator: operatorInfoSchema,
    requested: permissionsSchema,
    /** The slot of this operator connection's channels (channels.ts). */
    slot: slot.optional(),
  }),
  // Relay -> agent: an operator connection left; the agent closes the channels of its slot.
  z.object({
    type: z.literal('operator-left'),
    operatorId: z.string().max(64),
    slot: slot.optional(),
  }),
  // Agent -> relay -> operators: the end user's answer, and every later change to it. `slot` names
  // the operator connection the user was asked about (absent from agents older than it: all present).
  z.object({
    type: z.literal('consent'),
    accepted: z.boolean(),
    permissions: permissionsSchema,
    slot: slot.optional(),
  }),
  z.object({ type: z.literal('permissions'), permissions: permissionsSchema }),
  // Operator -> relay -> agent, after consent: the operator asks the end user for more (true = wanted).
  // The relay adds `operator`; the agent always answers with a `permissions` message.
  z.object({
    type: z.literal('permission-request'),
    requested: permissionsSchema,
    operator: operatorInfoSchema.optional(),
  }),
  // Agent -> operators: what the following video frames contain.
  z.object({
    type: z.literal('video-config'),
    codec: z.string().max(64),
    width: z.number().int().positive().max(16384),
    height: z.number().int().positive().max(16384),
    framerate: z.number().positive().max(240),
  }),
  z.object({ type: z.literal('request-keyframe') }),
  // Agent -> operators, while viewing is allowed: the cursor's image whenever it changes, where the
  // agent leaves the cursor out of the picture (X11) for the console to draw. `rgba` is straight
  // RGBA, width * height * 4 bytes, in base64; the hotspot is the pixel that points.
  z.object({
    type: z.literal('cursor-shape'),
    width: z.number().int().min(1).max(MAX_CURSOR_SIDE),
    height: z.number().int().min(1).max(MAX_CURSOR_SIDE),
    hotX: z.number().int().min(0).max(MAX_CURSOR_SIDE),
    hotY: z.number().int().min(0).max(MAX_CURSOR_SIDE),
    rgba: z.string().max(Math.ceil((MAX_CURSOR_SIDE * MAX_CURSOR_SIDE * 4) / 3) * 4),
  }),
  // Agent -> operators, while viewing is allowed: where the pointer is, in the video's pixels (it may
  // be outside the picture), each time it moves; at most about 30 a second.
  z.object({
    type: z.literal('cursor-position'),
    x: z.number().int().min(-65536).max(65536),
    y: z.number().int().min(-65536).max(65536),
  }),
  // Either way: "are you there?" from an agent or console, echoed by the relay (see `welcome`).
  z.object({ type: z.literal('heartbeat') }),
  // Relay -> operators: the agent's connection dropped and the relay waits for it to come back.
  z.object({ type: z.literal('agent-status'), state: z.enum(['reconnecting', 'connected']) }),
  z.object({ type: z.literal('input'), event: inputEventSchema }),
  z.object({ type: z.literal('end'), reason: z.enum(END_REASONS), message: z.string().max(1000).optional() }),

  // Agent -> operators: the device's monitors and which one the video shows; sent before the first
  // `video-config` and after every change. Agents that predate it share the whole desktop.
  z.object({
    type: z.literal('monitors'),
    monitors: z.array(monitorSchema).max(MAX_MONITORS),
    selected: monitorChoice,
    // Present while the end user shares one window: the video shows only it, and the operators
    // cannot choose a monitor until the user shares the whole screen again.
    window: sharedWindowSchema.optional(),
  }),
  // Operator -> relay -> agent, while viewing is allowed: show that monitor, or all (null).
  z.object({ type: z.literal('select-monitor'), monitor: monitorChoice }),
  // Clipboard text, both ways, while the end user allows `clipboard`: the operator's copy is put on
  // the device's clipboard, and what is copied on the device comes to every operator. A device copy
  // longer than MAX_CLIPBOARD_CHARS is not sent: `text` is empty and `tooLong` says how long it was.
  z.object({
    type: z.literal('clipboard'),
    text: z.string().max(MAX_CLIPBOARD_CHARS),
    tooLong: z.number().int().positive().optional(),
  }),
  // Operator -> relay -> agent, while the end user allows `guidance`: a mark drawn over the user's
  // screen, never input. The relay adds the operator's `slot` (`clear` removes that operator's marks)
  // and `colour`, the index of their colour (guidance.ts `guidanceColour`).
  z.object({
    type: z.literal('guidance'),
    mark: guidanceMarkSchema,
    slot: slotField.optional(),
    colour: z.number().int().min(0).max(0xffff).optional(),
  }),
  // Operator -> relay -> agent -> relay -> that operator: the whole path's round trip. The relay adds
  // the operator's `slot` on the way in and routes the `pong` back by it.
  z.object({ type: z.literal('ping'), id: pingId, slot: slotField.optional() }),
  z.object({ type: z.literal('pong'), id: pingId, slot: slotField.optional() }),

  // Chat, both ways. The sender sends `id` and `text`; the relay adds `from` and `sentAt` and passes
  // it to the agent and every other operator, and replays recent history to operators who join.
  z.object({
    type: z.literal('chat'),
    id: z.string().min(1).max(64),
    text: z.string().min(1).max(4000),
    from: chatAuthorSchema.optional(),
    sentAt: z.number().min(0).optional(),
  }),

  // Channels (channels.ts). Either side may close one; the agent reports failures as channel-error.
  z.object({ type: z.literal('channel-close'), channel }),
  z.object({
    type: z.literal('channel-error'),
    channel,
    code: z.enum(RESULT_CODES),
    message: z.string().max(1000),
  }),

  // An interactive shell in a PTY. Its bytes travel as shell-data frames on stream 0.
  z.object({
    type: z.literal('shell-open'),
    channel,
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  }),
  z.object({ type: z.literal('shell-opened'), channel, shell: z.string().max(1024) }),
  z.object({
    type: z.literal('shell-resize'),
    channel,
    cols: z.number().int().min(1).max(1000),
    rows: z.number().int().min(1).max(1000),
  }),
  // A shell or command finished; for commands, after the last output frame.
  z.object({
    type: z.literal('shell-exit'),
    channel,
    exitCode: z.number().int().nullable(),
    signal: z.string().max(32).nullable(),
    timedOut: z.boolean().optional(),
    /** The command's output passed its limit and it was stopped. */
    truncated: z.boolean().optional(),
    durationMs: z.number().min(0).optional(),
  }),
  // One command run by the platform's shell (sh -c, cmd /c); output on streams 1 and 2.
  z.object({
    type: z.literal('exec'),
    channel,
    command: z.string().min(1).max(8192),
    /** Working directory, inside the shared folder; absent: the shared folder itself. */
    cwd: sharedPath.optional(),
    timeoutMs: z.number().int().min(1).max(3_600_000),
    maxOutputBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024),
  }),

  // Files inside the folder the agent shares.
  z.object({
    type: z.literal('file-list'),
    channel,
    path: sharedPath,
    offset: z.number().int().min(0).optional(),
  }),
  z.object({
    type: z.literal('file-listing'),
    channel,
    path: sharedPath,
    /** The shared folder's name on the device, for display only. */
    root: z.string().max(4096),
    offset: z.number().int().min(0),
    total: z.number().int().min(0),
    entries: z.array(fileEntrySchema).max(300),
  }),
  // Download: the agent answers file-info, then file chunks from `offset`, then file-end.
  z.object({ type: z.literal('file-read'), channel, path: sharedPath, offset: z.number().int().min(0) }),
  z.object({
    type: z.literal('file-info'),
    channel,
    path: sharedPath,
    size: z.number().int().min(0),
    modifiedAt: z.number().min(0),
    /**
     * The file's identity on the device, a strong validator: equal versions mean equal bytes. The
     * HTTP API sends it as the ETag. Absent from agents older than this field.
     */
    version: z
      .string()
      .regex(/^[0-9A-Za-z._-]{1,64}$/)
      .optional(),
  }),
  // Upload: the agent answers file-ready with the offset to send from (a partial upload resumes).
  z.object({
    type: z.literal('file-write'),
    channel,
    path: sharedPath,
    size: z.number().int().min(0),
    overwrite: z.boolean(),
  }),
  // The end user is asked to accept the file (and may rename it): file-ready, or REFUSED_BY_USER, follows.
  z.object({ type: z.literal('file-offered'), channel }),
  z.object({ type: z.literal('file-ready'), channel, offset: z.number().int().min(0) }),
  // The receiver has everything up to `offset`; the sender may run FILE_WINDOW_BYTES ahead of it.
  z.object({ type: z.literal('file-ack'), channel, offset: z.number().int().min(0) }),
  // The sender sent the last chunk; the SHA-256 covers the whole file.
  z.object({ type: z.literal('file-end'), channel, size: z.number().int().min(0), sha256: sha256Hex }),
  // The agent stored an upload under its final name.
  z.object({ type: z.literal('file-done'), channel, path: sharedPath, size: z.number().int().min(0) }),
  z.object({
    type: z.literal('file-op'),
    channel,
    /** `copy` (a file, or a folder and everything in it) is refused by agents older than it with MALFORMED. */
    op: z.enum(['mkdir', 'delete', 'rename', 'copy']),
    path: sharedPath,
    to: sharedPath.optional(),
  }),
  z.object({ type: z.literal('file-op-done'), channel }),

  // Several operators (README "Several operators"). Relay -> agent and operators: who is connected
  // and which connection holds control (null: nobody), after every change.
  z.object({
    type: z.literal('participants'),
    operators: z.array(participantSchema).max(0xffff),
    controlSlot: slot.nullable(),
  }),
  // Agent -> relay: the end user lets an additional operator connection in, or turns it away.
  z.object({ type: z.literal('join-answer'), slot, accepted: z.boolean() }),
  // Agent -> relay: the end user removes one operator connection; the session goes on.
  z.object({ type: z.literal('operator-remove'), slot }),
  // Operator -> relay: asks for control. The relay passes it to the holder with `operator` and
  // `slot` added, or grants it at once when nobody holds control or the asker is an administrator.
  z.object({
    type: z.literal('control-request'),
    operator: operatorInfoSchema.optional(),
    slot: slot.optional(),
  }),
  // Operator in control -> relay: hands control to `slot` (answering its request, or unasked).
  z.object({ type: z.literal('control-grant'), slot }),
  // Operator in control -> relay -> the asker: the request of `slot` is declined.
  z.object({ type: z.literal('control-decline'), slot }),

  // Adaptation to the link (issue 13). Operator -> relay, a few times a second while video arrives:
  // the video bytes (whole frames, headers included) this connection has received so far. The relay
  // compares them with what it sent, so it knows what is still on the way, wherever it waits.
  // `behind`: the console's own word that it fell behind the pictures in its last measured second
  // (its main thread busy most of it, or pictures skipped for newer ones); absent from older consoles.
  z.object({ type: z.literal('video-received'), bytes: byteCount, behind: z.boolean().optional() }),
  // Relay -> agent: video still on the way to the slowest operator who reports receipts: bytes sent
  // and not yet received, and `ms`, how long the newest received frame took from the relay to the
  // operator's receipt (or the oldest unreceived one has waited, when that is longer); `behind`, that
  // operator's console's last word on keeping up (see `video-received`), when it said one.
  z.object({
    type: z.literal('video-backlog'),
    bytes: byteCount,
    ms: z.number().min(0).max(3_600_000),
    behind: z.boolean().optional(),
  }),
  // Operator -> relay -> agent: what to give up first when the link cannot carry everything.
  z.object({ type: z.literal('video-preference'), prefer: z.enum(VIDEO_PREFERENCES) }),
  // Agent -> operators: what the adaptation chose — at most `fps` pictures a second of `maxFps` — for
  // which preference, answering a backlog of `backlogMs` (see `video-backlog`) — and, once the link
  // was seen to limit the video, the bitrate budget `kbps` the encoder keeps to.
  z.object({
    type: z.literal('video-adaptation'),
    fps: frameRate,
    maxFps: frameRate,
    prefer: z.enum(VIDEO_PREFERENCES),
    backlogMs: z.number().min(0).max(3_600_000),
    kbps: z.number().min(0).max(10_000_000).optional(),
  }),
]);

export type ControlMessage = z.infer<typeof controlMessageSchema>;
export type ControlMessageType = ControlMessage['type'];
/** Narrows the envelope to one message type: `MessageOf<'hello'>`. */
export type MessageOf<T extends ControlMessageType> = Extract<ControlMessage, { type: T }>;
export type PeerInfo = z.infer<typeof peerInfoSchema>;
export type OperatorInfo = z.infer<typeof operatorInfoSchema>;
export type FileEntry = z.infer<typeof fileEntrySchema>;
export type ChatAuthor = z.infer<typeof chatAuthorSchema>;
export type Participant = z.infer<typeof participantSchema>;
export type Monitor = z.infer<typeof monitorSchema>;
export type SharedWindow = z.infer<typeof sharedWindowSchema>;

export type GuidanceMark = z.infer<typeof guidanceMarkSchema>;

export { inputEventSchema, permissionsSchema };
