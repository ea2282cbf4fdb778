/**
 * Runs inside the viewer page (Lifeline's console or the noVNC page) before its own scripts, bundled
 * by `instrumentation.ts`. It measures both viewers the same way, without changing either:
 *
 * - Every `drawImage` or `putImageData` onto the viewer's visible canvas counts as one picture shown
 *   (Lifeline draws each decoded frame so, or puts the pixels its video worker converted; noVNC copies
 *   each finished update from its back buffer so). Right after it, the counter strip is read back
 *   from that canvas.
 * - Every WebSocket message received counts its payload bytes.
 * - The first keydown after `expectNext()` is time-stamped in the capture phase, before the viewer's
 *   own handler sees it.
 *
 * Input-to-display latency uses the page's `performance.now()` at both ends, one clock. Display-to-
 * viewer latency compares the page's `Date.now()` with the test client's, the same system clock.
 */
import { BLOCK_PX, COUNTER_MODULO, readCounter, STRIP_WIDTH_PX } from '../x11/counter.ts';

/** Changes kept for display-to-viewer matching; older ones are dropped. */
const MAX_CHANGES = 8192;
/** Side of the square averaged at the centre of each counter square, in pixels. */
const SAMPLE_PX = 8;

export interface BenchPage {
  /** CSS selector of the canvas that shows the remote screen. */
  watch: string;
  /** Pictures drawn onto that canvas. */
  frames: number;
  /** WebSocket payload bytes received by the page. */
  bytes: number;
  /** Lifeline only: bytes of video frames flagged as keyframes (kind 0x02, flag bit 0). */
  keyframeBytes: number;
  /** Distinct counter values seen since `read()` was pointed somewhere. */
  changes: number;
  /** Pictures where the counter strip did not read as a valid value. */
  unreadable: number;
  /** The last valid counter value read. */
  value: number | undefined;
  /** [value, epoch ms] of each change, for matching against the test client's clock. */
  log: Array<[number, number]>;
  /**
   * Lifeline only: `lifelineStats.lastLatencyMs` (drawn minus the agent's capture stamp, which it
   * takes when an access unit is cut from ffmpeg's output) per picture, to split the latency into the part
   * before the agent sends a frame and the part after.
   */
  sentToDrawn: number[];
  /** `performance.now()` when the page's first WebSocket (the viewer's stream) opened. */
  socketOpenedAt: number | undefined;
  /** Lifeline only: `performance.now()` when the first video unit arrived. */
  firstVideoAt: number | undefined;
  /** `performance.now()` when the first picture was drawn onto the watched canvas. */
  firstFrameAt: number | undefined;
  /** Reads the counter at (x, y) of the canvas from now on; `null` stops reading. */
  read(x: number | null, y?: number): void;
  /** Arms the next measurement: the next keydown starts it, the counter's next value ends it. */
  expectNext(): number;
  /** Resolves with the latency of the armed measurement in ms, or null after `timeoutMs`. */
  waitForTarget(timeoutMs: number): Promise<number | null>;
  /**
   * The last measurement's ends in ms since the Unix epoch (sub-millisecond), to set beside the
   * stamps taken in other processes on the same clock: the keydown, and the picture showing the value.
   */
  lastSample(): { keyAt: number; seenAt: number } | undefined;
}

declare global {
  interface Window {
    benchPage: BenchPage;
    benchWatch?: string;
    /** Playwright binding: the first picture is drawn. */
    benchFirstPicture?: () => Promise<void>;
  }
}

let region: { x: number; y: number } | undefined;
let target: number | undefined;
let keyAt: number | undefined;
let targetSeenAt: number | undefined;
let onTarget: (() => void) | undefined;

const page: BenchPage = {
  watch: window.benchWatch ?? 'canvas',
  frames: 0,
  bytes: 0,
  keyframeBytes: 0,
  changes: 0,
  unreadable: 0,
  value: undefined,
  log: [],
  sentToDrawn: [],
  socketOpenedAt: undefined,
  firstVideoAt: undefined,
  firstFrameAt: undefined,
  read(x, y) {
    region = x === null ? undefined : { x, y: y ?? 0 };
    page.value = undefined;
    page.changes = 0;
    page.unreadable = 0;
    page.log = [];
    page.sentToDrawn = [];
    // Read what is on the canvas now: a still desktop may not draw again for a long time.
    const canvas = document.querySelector<HTMLCanvasElement>(page.watch);
    const context = canvas && canvas.width > 0 ? canvas.getContext('2d') : null;
    if (context) readStrip(context);
  },
  expectNext() {
    target = ((page.value ?? -1) + 1) % COUNTER_MODULO;
    keyAt = undefined;
    targetSeenAt = undefined;
    return target;
  },
  waitForTarget(timeoutMs) {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        onTarget = undefined;
        resolve(targetSeenAt !== undefined && keyAt !== undefined ? targetSeenAt - keyAt : null);
      };
      const timer = setTimeout(finish, timeoutMs);
      if (targetSeenAt !== undefined) finish();
      else onTarget = finish;
    });
  },
  lastSample() {
    if (keyAt === undefined || targetSeenAt === undefined) return undefined;
    return { keyAt: performance.timeOrigin + keyAt, seenAt: performance.timeOrigin + targetSeenAt };
  },
};
window.benchPage = page;

window.addEventListener(
  'keydown',
  () => {
    if (target !== undefined && keyAt === undefined) keyAt = performance.now();
  },
  true,
);

function readStrip(context: CanvasRenderingContext2D): void {
  if (!region) return;
  const { data } = context.getImageData(region.x, region.y, STRIP_WIDTH_PX, BLOCK_PX);
  const value = readCounter((square) => {
    const left = square * BLOCK_PX + (BLOCK_PX - SAMPLE_PX) / 2;
    const top = (BLOCK_PX - SAMPLE_PX) / 2;
    let sum = 0;
    for (let y = top; y < top + SAMPLE_PX; y++) {
      for (let x = left; x < left + SAMPLE_PX; x++) {
        const i = (y * STRIP_WIDTH_PX + x) * 4;
        sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      }
    }
    return sum / (SAMPLE_PX * SAMPLE_PX);
  });
  if (value === undefined) {
    page.unreadable++;
    return;
  }
  if (value === page.value) return;
  const now = performance.now();
  page.value = value;
  page.changes++;
  // Date.now() is the system clock the test client stamps its changes with, in another process.
  page.log.push([value, Date.now()]);
  if (page.log.length > MAX_CHANGES) page.log.shift();
  if (value === target && targetSeenAt === undefined) {
    targetSeenAt = now;
    onTarget?.();
  }
}

/** A picture was just drawn onto `context`'s canvas (by `drawImage` or `putImageData`). */
function pictureDrawn(context: CanvasRenderingContext2D): void {
  if (!context.canvas.isConnected || !context.canvas.matches(page.watch)) return;
  if (page.firstFrameAt === undefined) {
    page.firstFrameAt = performance.now();
    // Tells the benchmark without it polling the page (instrumentation.ts, firstPicture).
    void window.benchFirstPicture?.();
  }
  page.frames++;
  // The console sets lastLatencyMs right after the picture is drawn: this is the previous picture's.
  const stats = (window as { lifelineStats?: { lastLatencyMs: number } }).lifelineStats;
  if (stats && page.frames > 1 && page.sentToDrawn.length < MAX_CHANGES)
    page.sentToDrawn.push(stats.lastLatencyMs);
  readStrip(context);
}

// Both ways a viewer puts a picture on its canvas: Lifeline's page path and noVNC draw images, and
// Lifeline's worker path puts the worker's pixels.
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (
  this: CanvasRenderingContext2D,
  ...args: unknown[]
): void {
  (drawImage as (...a: unknown[]) => void).apply(this, args);
  pictureDrawn(this);
};
const putImageData = CanvasRenderingContext2D.prototype.putImageData;
CanvasRenderingContext2D.prototype.putImageData = function (
  this: CanvasRenderingContext2D,
  ...args: unknown[]
): void {
  (putImageData as (...a: unknown[]) => void).apply(this, args);
  pictureDrawn(this);
};

/** Lifeline's video frame kind and keyframe flag (protocol/frames.ts), read only on its console. */
const LIFELINE_VIDEO_KIND = 0x02;
const watchesLifeline = page.watch.includes('data-testid=screen');

const NativeWebSocket = window.WebSocket;
// A constructor that returns the native socket with a listener added, not a subclass: noVNC checks
// that the socket's own prototype has `send`, `close`, … (websock.js, rawChannelProps).
function CountingWebSocket(url: string | URL, protocols?: string | string[]): WebSocket {
  const socket = new NativeWebSocket(url, protocols);
  socket.addEventListener('open', () => {
    page.socketOpenedAt ??= performance.now();
  });
  socket.addEventListener('message', (event: MessageEvent) => {
    const data: unknown = event.data;
    if (data instanceof ArrayBuffer) {
      page.bytes += data.byteLength;
      const head = new Uint8Array(data, 0, Math.min(2, data.byteLength));
      if (watchesLifeline && head[0] === LIFELINE_VIDEO_KIND) page.firstVideoAt ??= performance.now();
      if (watchesLifeline && head[0] === LIFELINE_VIDEO_KIND && ((head[1] ?? 0) & 1) === 1) {
        page.keyframeBytes += data.byteLength;
      }
    } else if (data instanceof Blob) page.bytes += data.size;
    else if (typeof data === 'string') page.bytes += data.length;
  });
  return socket;
}
CountingWebSocket.prototype = NativeWebSocket.prototype;
Object.assign(CountingWebSocket, {
  CONNECTING: NativeWebSocket.CONNECTING,
  OPEN: NativeWebSocket.OPEN,
  CLOSING: NativeWebSocket.CLOSING,
  CLOSED: NativeWebSocket.CLOSED,
});
window.WebSocket = CountingWebSocket as unknown as typeof WebSocket;
