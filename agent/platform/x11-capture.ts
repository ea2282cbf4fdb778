import type { Writable } from 'node:stream';
import x11 from 'x11';
import { MAX_CURSOR_SIDE } from '../../protocol/index.ts';
import type { CursorShape, FrameFeed, FrameFeedHooks, PointerPosition, ScreenArea } from './platform.ts';

/** ZPixmap: GetImage returns packed pixels, 32 bits each for a depth-24 screen (BGRX in memory). */
const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;
/** DAMAGE report level NonEmpty: one event when the damaged region stops being empty. */
const DAMAGE_REPORT_NON_EMPTY = 3;
/** XFixes CursorNotify mask: an event each time the displayed cursor changes. */
const CURSOR_NOTIFY_MASK = 1;
/** How often the pointer's position is read while it moves, in ms; only changes are reported. */
const POINTER_MOVING_POLL_MS = 33;
/** How often it is read once it has rested for POINTER_REST_MS: a still pointer costs next to nothing, in ms. */
const POINTER_RESTING_POLL_MS = 100;
const POINTER_REST_MS = 1000;

/** The part of the `x11` package's client this module uses (the package ships no types). */
interface X11Client {
  AllocID(): number;
  GetImage(
    format: number,
    drawable: number,
    x: number,
    y: number,
    width: number,
    height: number,
    planeMask: number,
    callback: (error: Error | null, image: { depth: number; data: Buffer } | undefined) => void,
  ): void;
  QueryPointer(
    window: number,
    callback: (error: Error | null, pointer: { rootX: number; rootY: number; sameScreen: number }) => void,
  ): void;
  require(name: 'damage', callback: (error: Error | null, ext: DamageExtension) => void): void;
  require(name: 'fixes', callback: (error: Error | null, ext: FixesExtension) => void): void;
  require(name: 'shm', callback: (error: Error | null, ext: ShmExtension) => void): void;
  on(event: 'event', listener: (event: { name?: string }) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'end', listener: () => void): void;
  terminate(): void;
}

interface DamageExtension {
  Create(damage: number, drawable: number, level: number): void;
  Subtract(damage: number, repair: number, parts: number): void;
}

interface ShmExtension {
  /** A shared-memory segment attached to the server; fails when the connection cannot pass one. */
  createSegment(size: number, callback: (error: Error | null, segment?: ShmSegment) => void): void;
}

interface ShmSegment {
  /** The segment's bytes as last read back. */
  buffer: Buffer;
  getImage(
    drawable: number,
    x: number,
    y: number,
    width: number,
    height: number,
    planeMask: number,
    format: number,
    offset: number,
    callback: (error: Error | null) => void,
  ): void;
  detach(): void;
}

interface FixesExtension {
  SelectCursorInput(window: number, mask: number): void;
  GetCursorImage(
    callback: (
      error: Error | null,
      image: {
        width: number;
        height: number;
        xhot: number;
        yhot: number;
        cursorSerial: number;
        cursorImage: Buffer;
      },
    ) => void,
  ): void;
}

interface X11Display {
  client: X11Client;
  screen: { root: number; root_depth: number }[];
  format?: Record<string, { bits_per_pixel: number }>;
}

const createClient = (
  x11 as unknown as {
    createClient(
      options: { display: string },
      callback: (error: Error | null | undefined, display: X11Display) => void,
    ): { on(event: 'error', listener: (error: Error) => void): void };
  }
).createClient;

export interface X11CaptureOptions {
  display: string;
  /** The desktop rectangle captured, in the root window's pixels. */
  area: ScreenArea;
  /** Most frames per second written. */
  framerate: number;
  /** ffmpeg's standard input: raw BGR0 frames of `area`'s size. */
  stdin: Writable;
  hooks: FrameFeedHooks;
}

/**
 * Feeds ffmpeg the screen only when it changes: X DAMAGE on the root window reports that something
 * was drawn, and only then is the captured rectangle read (GetImage) and written as one raw frame,
 * at most `framerate` times a second. A still desktop costs neither the agent nor ffmpeg anything
 * (ffmpeg waits on its input); a change is read as soon as it is reported. One frame is read at once
 * so the encoder has a first picture.
 *
 * The same connection watches the cursor (XFixes): its image on every change, deduplicated by serial,
 * and its position, read every POINTER_POLL_MS and reported when it moved. GetImage leaves the
 * cursor out of the picture, so the console draws it.
 */
export function startX11Capture(options: X11CaptureOptions): FrameFeed {
  const { area, stdin, hooks } = options;
  let frameIntervalMs = 1000 / options.framerate;
  let stopped = false;
  let client: X11Client | undefined;
  let grabTimer: ReturnType<typeof setTimeout> | undefined;
  const cleanups: (() => void)[] = [];

  const fail = (message: string) => {
    if (stopped) return;
    stop();
    hooks.onError(message);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(grabTimer);
    for (const cleanup of cleanups) cleanup();
    client?.terminate();
  };

  createClient({ display: options.display }, (error, display) => {
    if (stopped) {
      display?.client.terminate();
      return;
    }
    if (error || !display) {
      fail(`cannot open the X display ${options.display}: ${String(error)}`);
      return;
    }
    const X = display.client;
    client = X;
    const screen = display.screen[0];
    if (!screen) {
      fail('the X display has no screen');
      return;
    }
    if (screen.root_depth !== 24 || display.format?.['24']?.bits_per_pixel !== 32) {
      fail(
        `unsupported X screen depth ${screen.root_depth}: only 24-bit colour in 32-bit pixels is captured`,
      );
      return;
    }
    const root = screen.root;
    X.on('error', (xError) => fail(`X error: ${xError.message}`));
    X.on('end', () => fail('the X server closed the connection'));

    X.require('damage', (damageError, Damage) => {
      if (damageError) {
        fail(`the X server has no DAMAGE extension: ${damageError.message}`);
        return;
      }
      const damage = X.AllocID();
      Damage.Create(damage, root, DAMAGE_REPORT_NON_EMPTY);

      let grabbing = false;
      let dirty = false;
      let lastGrabAt = Number.NEGATIVE_INFINITY;
      const frameBytes = area.width * area.height * 4;

      const written = () => {
        grabbing = false;
        if (dirty) schedule();
      };
      const grab = () => {
        if (stopped) return;
        grabbing = true;
        dirty = false;
        lastGrabAt = performance.now();
        // Emptied before the read: whatever is drawn from now on reports again and is read next.
        Damage.Subtract(damage, 0, 0);
        const onImage = (e: Error | null, data: Uint8Array | undefined) => {
          if (stopped) return;
          if (e || !data) {
            fail(`could not read the screen: ${e?.message ?? 'no image'}`);
            return;
          }
          // The next read waits until ffmpeg has taken this frame: a busy encoder holds capture back
          // instead of raw frames piling up in memory, and a shared segment is not overwritten early.
          stdin.write(data, written);
        };
        if (segment)
          segment.getImage(root, area.x, area.y, area.width, area.height, ALL_PLANES, Z_PIXMAP, 0, (e) =>
            onImage(e, segment?.buffer.subarray(0, frameBytes)),
          );
        else
          X.GetImage(Z_PIXMAP, root, area.x, area.y, area.width, area.height, ALL_PLANES, (e, image) =>
            onImage(e, image?.data),
          );
      };

      const schedule = () => {
        dirty = true;
        if (grabbing || grabTimer || stopped) return;
        const wait = lastGrabAt + frameIntervalMs - performance.now();
        if (wait <= 0) grab();
        else
          grabTimer = setTimeout(() => {
            grabTimer = undefined;
            grab();
          }, wait);
      };

      X.on('event', (event) => {
        if (event.name === 'DamageNotify') schedule();
      });
      let segment: ShmSegment | undefined;
      // MIT-SHM lets the server copy the picture into shared memory (a few ms for 720p) instead of
      // sending it down the socket (tens of ms to parse in JavaScript); without it the core request reads.
      X.require('shm', (shmError, Shm) => {
        if (stopped) return;
        if (shmError) {
          grab();
          return;
        }
        Shm.createSegment(frameBytes, (segmentError, created) => {
          if (stopped) {
            created?.detach();
            return;
          }
          if (!segmentError && created) segment = created;
          grab();
        });
      });
      cleanups.push(() => segment?.detach());
    });

    if (hooks.onCursorShape) watchCursorShape(X, root, hooks.onCursorShape, fail);
    if (hooks.onPointer) followPointer(X, root, area, hooks.onPointer, cleanups);
  }).on('error', (error) => fail(`cannot connect to the X server: ${error.message}`));

  return {
    stop,
    setFrameRate: (fps) => {
      frameIntervalMs = 1000 / Math.max(0.1, Math.min(fps, options.framerate));
    },
  };
}

/** Reads the pointer's position often while it moves and seldom while it rests; reports moves. */
function followPointer(
  X: X11Client,
  root: number,
  area: ScreenArea,
  onPointer: (position: PointerPosition) => void,
  cleanups: (() => void)[],
): void {
  let last: PointerPosition | undefined;
  let movedAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  cleanups.push(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const poll = () => {
    X.QueryPointer(root, (error, pointer) => {
      if (stopped) return;
      if (!error) {
        const position = { x: pointer.rootX - area.x, y: pointer.rootY - area.y };
        if (!last || last.x !== position.x || last.y !== position.y) {
          last = position;
          movedAt = performance.now();
          onPointer(position);
        }
      }
      const resting = performance.now() - movedAt > POINTER_REST_MS;
      timer = setTimeout(poll, resting ? POINTER_RESTING_POLL_MS : POINTER_MOVING_POLL_MS);
    });
  };
  poll();
}

function watchCursorShape(
  X: X11Client,
  root: number,
  onCursorShape: (shape: CursorShape) => void,
  fail: (message: string) => void,
): void {
  X.require('fixes', (error, Fixes) => {
    if (error) {
      fail(`the X server has no XFIXES extension: ${error.message}`);
      return;
    }
    let lastSerial: number | undefined;
    const read = () =>
      Fixes.GetCursorImage((e, image) => {
        if (e || image.cursorSerial === lastSerial) return;
        lastSerial = image.cursorSerial;
        if (image.width > MAX_CURSOR_SIDE || image.height > MAX_CURSOR_SIDE) return;
        onCursorShape(cursorShape(image));
      });
    Fixes.SelectCursorInput(root, CURSOR_NOTIFY_MASK);
    X.on('event', (event) => {
      if (event.name === 'CursorNotify') read();
    });
    read();
  });
}

/** XFixes gives premultiplied ARGB as little-endian 32-bit words; a canvas wants straight RGBA bytes. */
function cursorShape(image: {
  width: number;
  height: number;
  xhot: number;
  yhot: number;
  cursorSerial: number;
  cursorImage: Buffer;
}): CursorShape {
  const pixels = image.width * image.height;
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const o = i * 4;
    const b = image.cursorImage[o] ?? 0;
    const g = image.cursorImage[o + 1] ?? 0;
    const r = image.cursorImage[o + 2] ?? 0;
    const a = image.cursorImage[o + 3] ?? 0;
    const unmultiply = (c: number) => (a === 0 ? 0 : Math.min(255, Math.round((c * 255) / a)));
    rgba[o] = unmultiply(r);
    rgba[o + 1] = unmultiply(g);
    rgba[o + 2] = unmultiply(b);
    rgba[o + 3] = a;
  }
  return {
    serial: image.cursorSerial,
    width: image.width,
    height: image.height,
    hotX: image.xhot,
    hotY: image.yhot,
    rgba,
  };
}
