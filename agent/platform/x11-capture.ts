import type { Writable } from 'node:stream';
import type { ShmExtension, ShmSegment, XClient, XCursorImage } from 'x11';
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
import { sharedSegmentProvider } from './x11-shm-provider.ts';

/** ZPixmap: GetImage returns packed pixels, 32 bits each for a depth-24 screen (BGRX in memory). */
const Z_PIXMAP = 2;
const ALL_PLANES = 0xffffffff;
/**
 * DAMAGE report level BoundingBox: an event each time the damaged region's bounding box grows, with
 * that box, so only the rows drawn on are read.
 */
const DAMAGE_REPORT_BOUNDING_BOX = 2;
/** XFixes CursorNotify mask: an event each time the displayed cursor changes. */
const CURSOR_NOTIFY_MASK = 1;
/** How often the pointer's position is read while it moves, in ms; only changes are reported. */
const POINTER_MOVING_POLL_MS = 33;
/**
 * How often it is read once it has rested for POINTER_REST_MS, in ms: where XInput 2 reports the
 * pointer's raw motion, a move is read at once and this only catches warps (XWarpPointer moves it
 * without motion events); without XInput 2, often enough that a first move is seen soon.
 */
const POINTER_RESTING_POLL_MS = 1000;
const POINTER_RESTING_POLL_WITHOUT_XI2_MS = 100;
const POINTER_REST_MS = 1000;
/**
 * Reads of the screen allowed ahead of the steady `framerate` after a pause: one, so the rest of a
 * change drawn in several requests is not held back a whole frame interval (see `schedule`).
 */
const READS_IN_ADVANCE = 1;

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
  /** Told the rows of `area` each read of the screen asks for (tests and benchmarks watch the cost). */
  onRowsRead?: (rows: RowBand) => void;
  /** Told each time the pointer's position is read (tests and benchmarks watch the cost). */
  onPointerRead?: () => void;
}

/**
 * Feeds the encoder the screen only when it changes: X DAMAGE on the root window reports the box
 * drawn on, and only then are those rows of the captured rectangle read (GetImage) and compared with
 * the picture last written; the rows that differ are written (as a band where the encoder keeps its
 * picture, else in a whole raw frame), at most `framerate` times a second. A still desktop costs
 * neither the agent nor the encoder anything (it waits on its input); a change is read as soon as it
 * is reported, and a read that shows nothing new is not written. After a pause one read may come
 * ahead of that rate (`READS_IN_ADVANCE`), so the rest of a change still being drawn at the first read follows at once. The whole rectangle is read at once
 * so the encoder has a first picture.
 *
 * In full motion (`framing.shared`, video mode) the rows read are not compared, nor read back into the
 * agent: the encoder reads them from the MIT-SHM segment the X server copied them into, and the next
 * read waits for its ack. `shown` then lags the encoder's picture in those rows, and is caught up from
 * the segment before the next compared read.
 *
 * Keyframes come only when asked (`requestKeyframe`): the next frame written is marked, and on a still
 * screen the last frame is written again at once, so a joining viewer need not wait for a change.
 *
 * The same connection watches the cursor (XFixes): its image on every change, deduplicated by serial,
 * and its position, read as soon as XInput 2 reports raw motion and then every POINTER_MOVING_POLL_MS
 * until it rests, and reported when it moved. GetImage leaves the cursor out of the picture, so the
 * console draws it.
 */
export function startX11Capture(options: X11CaptureOptions): FrameFeed {
  const { area, stdin, hooks } = options;
  let frameIntervalMs = 1000 / options.framerate;
  let stopped = false;
  let client: XClient | undefined;
  let grabTimer: ReturnType<typeof setTimeout> | undefined;
  const cleanups: (() => void)[] = [];
  const writer: FrameFraming = options.framing ?? new RawVideoWriter(area);
  const shared = writer.shared;
  const shm = shared ? sharedSegmentProvider() : undefined;
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
      Damage.Create(damage, root, DAMAGE_REPORT_BOUNDING_BOX);

      let grabbing = false;
      /** When the next read would be due if reads came exactly `frameIntervalMs` apart. */
      let nextReadAt = Number.NEGATIVE_INFINITY;
      const rowBytes = area.width * 4;
      const frameBytes = rowBytes * area.height;
      /**
       * The picture as last written (the encoder's picture): rows read are compared with it, and
       * where they differ copied into it; a keyframe request writes it again. Empty until the first read.
       */
      const shown = Buffer.alloc(frameBytes);
      let shownOnce = false;
      /** Rows of the area drawn on since the last read (DAMAGE's bounding boxes); undefined: none. */
      let damaged: RowBand | undefined;
      /**
       * The last read: its rows, and the sequence number of the Subtract before it. Drawing the X
       * server reported before it took that Subtract, within those rows, was read by it.
       */
      let lastRead: { seq: number; rows: RowBand } | undefined;
      /** Where the X server copies the rows read; without MIT-SHM they come down the socket. */
      let segment: ShmSegment | undefined;
      /** MIT-SHM's bare requests: a read into the segment that is not read back into `segment.buffer`. */
      let shmRequests: ShmExtension | undefined;
      /** The segment's descriptor, once the encoder was told it (`shared`); undefined: not yet. */
      let sharedFd: number | undefined;
      /** Rows handed to the encoder through the segment only: `shown` has not caught up with them. */
      let stale: RowBand | undefined;
      /** A band is in the segment and the encoder has not acked it yet. */
      let awaitingAck = false;
      if (shared)
        shared.onSegmentRead = () => {
          if (!awaitingAck || stopped) return;
          awaitingAck = false;
          written();
        };

      /**
       * Writes the rows `band` of `shown`, only those where the encoder keeps its last picture
       * (`bandHeader`): typing changes a few rows, and neither the pipe nor the encoder's colour
       * conversion need see the rest. The next read waits for `written`: a busy encoder holds capture
       * back instead of raw frames piling up in memory, and `shown` is not changed under a write.
       */
      const writeFrame = (band: RowBand) => {
        grabbing = true;
        const keyframe = keyframeWanted;
        keyframeWanted = false;
        if (writer.bandHeader) {
          const rows = shown.subarray(band.first * rowBytes, band.end * rowBytes);
          stdin.write(writer.bandHeader(band.first, rows.byteLength, keyframe));
          stdin.write(rows, written);
          return;
        }
        stdin.write(writer.frameHeader(frameBytes, keyframe));
        stdin.write(shown, written);
      };
      requestKeyframe = () => {
        keyframeWanted = true;
        // A grab under way is written whatever it shows and carries the mark; otherwise the picture
        // is still as last written, and goes again at once rather than when the screen next changes
        // (where the encoder keeps its picture, as no rows: it has them all already).
        if (!grabbing && shownOnce && !stopped) writeFrame({ first: 0, end: 0 });
      };

      const written = () => {
        grabbing = false;
        if (damaged) schedule();
      };
      /** Hands the rows `rows` just read into the segment to the encoder as they are. */
      const onSharedRows = (rows: RowBand, through: NonNullable<typeof shared>) => {
        stale = stale
          ? { first: Math.min(stale.first, rows.first), end: Math.max(stale.end, rows.end) }
          : rows;
        const keyframe = keyframeWanted;
        keyframeWanted = false;
        awaitingAck = true;
        stdin.write(through.bandHeader(rows.first, (rows.end - rows.first) * rowBytes, keyframe));
      };
      /** Brings `shown` up to the rows handed through the segment, which holds them as the encoder has them. */
      const catchUp = (reading: ShmSegment) => {
        if (!stale) return;
        const start = stale.first * rowBytes;
        const bytes = (stale.end - stale.first) * rowBytes;
        reading.readback(start, bytes);
        reading.buffer.copy(shown, start, start, start + bytes);
        stale = undefined;
      };
      /** Compares the rows `rows` just read (`read`: those rows only) with `shown`, and writes what changed. */
      const onRows = (rows: RowBand, read: Buffer) => {
        const start = rows.first * rowBytes;
        // Drawing that left every pixel as it was (a repaint, a cursor blink's off-phase redrawn) is
        // not encoded: comparing raw pixels here is cheaper than the encoder converting and comparing
        // them. The first frame goes whole.
        const changed = shownOnce
          ? changedRows(shown.subarray(start, start + read.byteLength), read, rowBytes)
          : { first: 0, end: rows.end - rows.first };
        shownOnce = true;
        if (changed)
          read.copy(
            shown,
            start + changed.first * rowBytes,
            changed.first * rowBytes,
            changed.end * rowBytes,
          );
        if (!keyframeWanted && !changed) {
          written();
          return;
        }
        writeFrame(
          changed
            ? { first: rows.first + changed.first, end: rows.first + changed.end }
            : { first: 0, end: 0 },
        );
      };
      const grab = () => {
        // A keyframe written again may still be under way: `written` schedules this read after it.
        if (stopped || grabbing) return;
        grabbing = true;
        const rows = shownOnce ? damaged : { first: 0, end: area.height };
        damaged = undefined;
        // Emptied before the read: whatever is drawn from now on reports again and is read next.
        Damage.Subtract(damage, 0, 0);
        if (!rows) {
          written();
          return;
        }
        // Only a read takes a slot: a grab with nothing damaged (the first DAMAGE report and the
        // start-up read racing) must not hold back the next change.
        nextReadAt = Math.max(nextReadAt, performance.now()) + frameIntervalMs;
        lastRead = { seq: X.seq_num, rows };
        options.onRowsRead?.(rows);
        const height = rows.end - rows.first;
        // Only the damaged rows are read, into the segment where they lie in a whole frame.
        if (segment && shmRequests) {
          const reading = segment;
          const offset = rows.first * rowBytes;
          const bytes = height * rowBytes;
          const fd = shared && shownOnce ? shm?.fdOf(reading.buffer) : undefined;
          const handOver = shared && fd !== undefined && shared.wholeMotion();
          if (handOver) {
            if (sharedFd !== fd) stdin.write(shared.segmentRecord(process.pid, fd));
            sharedFd = fd;
          } else catchUp(reading);
          // The bare request: the rows are read back into the agent only when it compares them.
          shmRequests.GetImage(
            root,
            area.x,
            area.y + rows.first,
            area.width,
            height,
            ALL_PLANES,
            Z_PIXMAP,
            reading.shmseg,
            offset,
            (e) => {
              if (stopped) return;
              if (e) fail(`could not read the screen: ${e.message}`);
              else if (handOver) onSharedRows(rows, shared);
              else {
                reading.readback(offset, bytes);
                onRows(rows, reading.buffer.subarray(offset, offset + bytes));
              }
            },
          );
        } else
          X.GetImage(
            Z_PIXMAP,
            root,
            area.x,
            area.y + rows.first,
            area.width,
            height,
            ALL_PLANES,
            (e, image) => {
              if (stopped) return;
              if (e || !image) fail(`could not read the screen: ${e?.message ?? 'no image'}`);
              else onRows(rows, image.data);
            },
          );
      };

      const schedule = () => {
        if (grabbing || grabTimer || stopped) return;
        // One read in advance of the interval: the rest of a change that is still being drawn when
        // it is first read (a client paints in several requests, and DAMAGE reports the first at once)
        // is read as soon as the first read is written, not a whole interval later. Steady motion is
        // still read at most `framerate` times a second.
        const wait = nextReadAt - frameIntervalMs * READS_IN_ADVANCE - performance.now();
        if (wait <= 0) grab();
        else
          grabTimer = setTimeout(() => {
            grabTimer = undefined;
            grab();
          }, wait);
      };

      X.on('event', (event) => {
        if (event.name !== 'DamageNotify' || !event.area) return;
        const rows = rowsOf(event.area, area);
        if (!rows) return;
        // A box drawn before the last read's Subtract, and within its rows, is in that read: X sends
        // the event while it draws, and it often arrives only after the read was asked for. Read again,
        // it would show nothing new (a keystroke would cost two reads).
        const seen = lastRead;
        if (seen && event.seq !== undefined && event.seq < seen.seq && within(rows, seen.rows)) return;
        damaged = damaged
          ? { first: Math.min(damaged.first, rows.first), end: Math.max(damaged.end, rows.end) }
          : rows;
        schedule();
      });
      // MIT-SHM lets the server copy the picture into shared memory (a few ms for 720p) instead of
      // sending it down the socket (tens of ms to parse in JavaScript); without it the core request reads.
      X.require('shm', (shmError, Shm) => {
        if (stopped) return;
        if (shmError) {
          grab();
          return;
        }
        shmRequests = Shm;
        Shm.createSegment(frameBytes, (segmentError, created) => {
          if (stopped) {
            created?.detach();
            return;
          }
          if (!segmentError) segment = created;
          grab();
        });
      });
      cleanups.push(() => segment?.detach());
    });

    if (hooks.onCursorShape) watchCursorShape(X, root, hooks.onCursorShape, fail);
    if (hooks.onPointer) followPointer(X, root, area, hooks.onPointer, cleanups, options.onPointerRead);
  };
  openX11(options.display, shm ? { shm } : {}).then(capture, (error: Error) => fail(error.message));

  return {
    stop,
    requestKeyframe: () => requestKeyframe(),
    setFrameRate: (fps) => {
      frameIntervalMs = 1000 / Math.max(0.1, Math.min(fps, options.framerate));
    },
  };
}

/**
 * Reads the pointer's position often while it moves and seldom while it rests; reports moves. A
 * resting pointer used to be read ten times a second so that a first move was seen soon: where the
 * server has XInput 2, its raw motion (delivered to the root window whatever the pointer is over,
 * XTest's moves included) wakes the polling instead, so a still pointer, as while typing, costs one
 * read a second.
 */
function followPointer(
  X: XClient,
  root: number,
  area: ScreenArea,
  onPointer: (position: PointerPosition) => void,
  cleanups: (() => void)[],
  onPointerRead?: () => void,
): void {
  let last: PointerPosition | undefined;
  let movedAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reading = false;
  let stopped = false;
  let restingPollMs = POINTER_RESTING_POLL_WITHOUT_XI2_MS;
  cleanups.push(() => {
    stopped = true;
    clearTimeout(timer);
  });
  const poll = () => {
    timer = undefined;
    reading = true;
    onPointerRead?.();
    X.QueryPointer(root, (error, pointer) => {
      reading = false;
      if (stopped) return;
      if (!error) {
        const position = { x: pointer.rootX - area.x, y: pointer.rootY - area.y };
        if (!last || last.x !== position.x || last.y !== position.y) {
          // The first position is where the pointer rests, not a move.
          if (last) movedAt = performance.now();
          last = position;
          onPointer(position);
        }
      }
      const resting = performance.now() - movedAt > POINTER_REST_MS;
      timer = setTimeout(poll, resting ? restingPollMs : POINTER_MOVING_POLL_MS);
    });
  };
  poll();
  X.require('xinput', (error, XInput) => {
    if (stopped || error || !XInput.xi2) return;
    XInput.XISelectEvents(root, {
      deviceId: XInput.AllMasterDevices,
      mask: XInput.EventMask.RawMotion,
    });
    restingPollMs = POINTER_RESTING_POLL_MS;
    X.on('event', (event) => {
      if (event.name !== 'XIRawMotion' || stopped) return;
      const wasResting = performance.now() - movedAt > POINTER_REST_MS;
      movedAt = performance.now();
      // A move of a resting pointer is read now; while it moves the polling goes on as it is.
      if (wasResting && !reading) {
        clearTimeout(timer);
        poll();
      }
    });
  });
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

/**
 * The rows of `area` that a damaged rectangle of the root window (`box`, in its pixels) covers, or
 * undefined when it lies outside `area`.
 */
export function rowsOf(
  box: { x: number; y: number; w: number; h: number },
  area: ScreenArea,
): RowBand | undefined {
  if (box.x >= area.x + area.width || box.x + box.w <= area.x) return undefined;
  const first = Math.max(0, box.y - area.y);
  const end = Math.min(area.height, box.y + box.h - area.y);
  return first < end ? { first, end } : undefined;
}

function within(inner: RowBand, outer: RowBand): boolean {
  return inner.first >= outer.first && inner.end <= outer.end;
}
