import type { Writable } from 'node:stream';
import type { ShmSegment, XClient, XCursorImage } from 'x11';
import { MAX_CURSOR_SIDE } from '../../protocol/index.ts';
import { changedRows, type RowBand } from '../media/changed-rows.ts';
import { RawVideoWriter } from '../media/raw-video-feed.ts';
import type {
  CursorShape,
  FrameFeed,
  FrameFeedHooks,
  FrameFraming,
  PointerPosition,
  ScreenArea,
} from './platform.ts';
import { openX11, type X11Connection } from './x11-connection.ts';

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

export interface X11CaptureOptions {
  display: string;
  /** The desktop rectangle captured, in the root window's pixels. */
  area: ScreenArea;
  /** Most frames per second written. */
  framerate: number;
  /** The encoder's standard input: raw BGR0 frames of `area`'s size, framed by `framing`. */
  stdin: Writable;
  /** How frames are framed; ffmpeg's Matroska (`RawVideoWriter`) when absent. */
  framing?: FrameFraming;
  hooks: FrameFeedHooks;
}

/**
 * Feeds ffmpeg the screen only when it changes: X DAMAGE on the root window reports that something
 * was drawn, and only then is the captured rectangle read (GetImage) and written as one raw frame,
 * at most `framerate` times a second. A still desktop costs neither the agent nor ffmpeg anything
 * (ffmpeg waits on its input); a change is read as soon as it is reported, and a read that shows
 * nothing new is not written. One frame is read at once so the encoder has a first picture.
 *
 * Keyframes come only when asked (`requestKeyframe`): the next frame written is marked, and on a still
 * screen the last frame is written again at once, so a joining viewer need not wait for a change.
 *
 * The same connection watches the cursor (XFixes): its image on every change, deduplicated by serial,
 * and its position, read every POINTER_POLL_MS and reported when it moved. GetImage leaves the
 * cursor out of the picture, so the console draws it.
 */
export function startX11Capture(options: X11CaptureOptions): FrameFeed {
  const { area, stdin, hooks } = options;
  let frameIntervalMs = 1000 / options.framerate;
  let stopped = false;
  let client: XClient | undefined;
  let grabTimer: ReturnType<typeof setTimeout> | undefined;
  const cleanups: (() => void)[] = [];
  const writer: FrameFraming = options.framing ?? new RawVideoWriter(area);
  let keyframeWanted = false;
  /** Replaced once the screen can be read; until then the first frame, a keyframe anyway, is all there is. */
  let requestKeyframe = () => {
    keyframeWanted = true;
  };
  stdin.write(writer.header());

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

  const capture = (connection: X11Connection) => {
    if (stopped) {
      connection.client.terminate();
      return;
    }
    const { client: X, screen } = connection;
    client = X;
    if (screen.root_depth !== 24 || connection.display.format?.['24']?.bits_per_pixel !== 32) {
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
      /** The last frame written to ffmpeg: a grab equal to it is not written, a keyframe request writes it again. */
      let lastWritten: Buffer | undefined;

      const rowBytes = area.width * 4;
      /**
       * Writes `data`, the rows `band` of it only where the encoder keeps its last picture
       * (`bandHeader`): typing changes a few rows, and neither the pipe nor the encoder's colour
       * conversion need see the rest.
       */
      const writeFrame = (data: Buffer, band: RowBand | undefined, done?: () => void) => {
        const keyframe = keyframeWanted;
        keyframeWanted = false;
        lastWritten = data;
        if (writer.bandHeader && band) {
          const rows = data.subarray(band.first * rowBytes, band.end * rowBytes);
          stdin.write(writer.bandHeader(band.first, rows.byteLength, keyframe));
          stdin.write(rows, done);
          return;
        }
        stdin.write(writer.frameHeader(data.byteLength, keyframe));
        stdin.write(data, done);
      };
      requestKeyframe = () => {
        keyframeWanted = true;
        // A grab under way is written whatever it shows and carries the mark; otherwise the picture
        // is still as last written, and goes again at once rather than when the screen next changes
        // (where the encoder keeps its picture, as no rows: it has them all already).
        if (!grabbing && lastWritten && !stopped) writeFrame(lastWritten, { first: 0, end: 0 });
      };

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
        const onImage = (e: Error | null, data: Buffer | undefined) => {
          if (stopped) return;
          if (e || !data) {
            fail(`could not read the screen: ${e?.message ?? 'no image'}`);
            return;
          }
          // Drawing that left every pixel as it was (a repaint, a cursor blink's off-phase redrawn) is
          // not encoded: comparing raw pixels here is cheaper than ffmpeg converting and comparing them.
          // The first frame goes whole.
          const band = lastWritten
            ? changedRows(lastWritten, data, rowBytes)
            : { first: 0, end: area.height };
          if (!keyframeWanted && !band) {
            written();
            return;
          }
          // The next read waits until ffmpeg has taken this frame: a busy encoder holds capture back
          // instead of raw frames piling up in memory, and a shared segment is not overwritten early.
          writeFrame(data, band ?? { first: 0, end: 0 }, written);
        };
        // Two shared segments take turns, so the one holding the last frame written stays intact to
        // compare the next read with and to write again on a keyframe request.
        const segment = segments.find((candidate) => candidate.buffer.buffer !== lastWritten?.buffer);
        if (segment)
          segment.getImage(root, area.x, area.y, area.width, area.height, ALL_PLANES, Z_PIXMAP, 0, (e) =>
            onImage(e, segment.buffer.subarray(0, frameBytes)),
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
      let segments: ShmSegment[] = [];
      // MIT-SHM lets the server copy the picture into shared memory (a few ms for 720p) instead of
      // sending it down the socket (tens of ms to parse in JavaScript); without it the core request reads.
      X.require('shm', (shmError, Shm) => {
        if (stopped) return;
        if (shmError) {
          grab();
          return;
        }
        const created: ShmSegment[] = [];
        const createOne = () =>
          Shm.createSegment(frameBytes, (segmentError, segment) => {
            if (segment) created.push(segment);
            if (stopped) {
              for (const each of created) each.detach();
              return;
            }
            if (!segmentError && segment && created.length < 2) {
              createOne();
              return;
            }
            if (created.length === 2) segments = created;
            else for (const each of created) each.detach();
            grab();
          });
        createOne();
      });
      cleanups.push(() => {
        for (const segment of segments) segment.detach();
      });
    });

    if (hooks.onCursorShape) watchCursorShape(X, root, hooks.onCursorShape, fail);
    if (hooks.onPointer) followPointer(X, root, area, hooks.onPointer, cleanups);
  };
  openX11(options.display).then(capture, (error: Error) => fail(error.message));

  return {
    stop,
    requestKeyframe: () => requestKeyframe(),
    setFrameRate: (fps) => {
      frameIntervalMs = 1000 / Math.max(0.1, Math.min(fps, options.framerate));
    },
  };
}

/** Reads the pointer's position often while it moves and seldom while it rests; reports moves. */
function followPointer(
  X: XClient,
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
  X: XClient,
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
function cursorShape(image: XCursorImage): CursorShape {
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
