/**
 * The benchmark's test client on the X display (run with DISPLAY set). It opens a small window in
 * the top-left corner and paints a counter (see `counter.ts`) that it advances on each key or button
 * press it receives, or on its own schedule. Commands arrive as lines on stdin:
 *
 * - `focus`: take the keyboard focus (there is no window manager to give it).
 * - `input on` / `input off`: advance the counter on each KeyPress/ButtonPress, or not.
 * - `fullscreen on` / `fullscreen off`: show (or hide) a window covering the whole screen, below the
 *   counter, painted with a checkerboard that is inverted on every advance, so each change repaints
 *   the whole screen (the counter still says which change a picture shows). Answers `fullscreen on`
 *   or `fullscreen off` once the X server has it.
 * - `ticks COUNT MIN_MS MAX_MS`: advance COUNT times, at random gaps in [MIN_MS, MAX_MS].
 * - `quit`
 *
 * It prints `ready VALUE` once painted, `input VALUE EPOCH_MS` for each press it advanced on (when
 * the press arrived), `tick VALUE EPOCH_MS` for each scheduled advance (the time the paint was sent)
 * and `ticks-done` after the last.
 */
import { createInterface } from 'node:readline';
import x11 from 'x11';
import { openX11, type X11Connection } from '../../agent/platform/x11-connection.ts';
import { COUNTER_MODULO, counterSquares, PROBE_STRIP, PROBE_WINDOW } from './counter.ts';
import { FULL_SCREEN_COLOURS, fullScreenSquares } from './full-screen.ts';

const KEY_PRESS = 2;
const BUTTON_PRESS = 4;
/** RevertTo PointerRoot for SetInputFocus. */
const REVERT_TO_POINTER_ROOT = 1;
/** The window's background: mid grey, distinct from both counter colours. */
const BACKGROUND_PIXEL = 0x606060;

function fail(message: string): never {
  process.stderr.write(`probe: ${message}\n`);
  process.exit(1);
}

const probe = ({ client: X, screen }: X11Connection) => {
  X.on('error', (xError) => fail(`X error: ${xError.message}`));

  const window = X.AllocID();
  X.CreateWindow(
    window,
    screen.root,
    PROBE_WINDOW.x,
    PROBE_WINDOW.y,
    PROBE_WINDOW.width,
    PROBE_WINDOW.height,
    0,
    0,
    0,
    0,
    {
      backgroundPixel: BACKGROUND_PIXEL,
      // No window manager runs: override-redirect says so and keeps the window where it is put.
      overrideRedirect: 1,
      eventMask: x11.eventMask.KeyPress | x11.eventMask.ButtonPress | x11.eventMask.Exposure,
    },
  );
  X.MapWindow(window);
  const whiteGc = X.AllocID();
  const blackGc = X.AllocID();
  X.CreateGC(whiteGc, window, { foreground: screen.white_pixel });
  X.CreateGC(blackGc, window, { foreground: screen.black_pixel });

  let value = 0;
  let inputOn = false;
  // A GC serves every window of its root and depth: these paint the full-screen window too.
  const patternGcs = FULL_SCREEN_COLOURS.map((colour) => {
    const gc = X.AllocID();
    X.CreateGC(gc, window, { foreground: colour });
    return gc;
  });
  /** The full-screen window while it is shown. */
  let fullScreen: number | undefined;
  const paintFullScreen = () => {
    if (fullScreen === undefined) return;
    const squares = fullScreenSquares(screen.pixel_width, screen.pixel_height, value);
    for (const [colour, rects] of squares.entries()) {
      X.PolyFillRectangle(fullScreen, patternGcs[colour]!, rects);
    }
  };
  const paint = () => {
    const { white, black } = counterSquares(value);
    const offset = (rects: number[]) =>
      rects.map((n, i) =>
        i % 4 === 0
          ? n + PROBE_STRIP.x - PROBE_WINDOW.x
          : i % 4 === 1
            ? n + PROBE_STRIP.y - PROBE_WINDOW.y
            : n,
      );
    X.PolyFillRectangle(window, whiteGc, offset(white));
    X.PolyFillRectangle(window, blackGc, offset(black));
  };
  const advance = () => {
    value = (value + 1) % COUNTER_MODULO;
    // The screen first, the counter last: a picture showing the new value shows the whole change.
    paintFullScreen();
    paint();
  };
  const showFullScreen = (on: boolean) => {
    if (on && fullScreen === undefined) {
      fullScreen = X.AllocID();
      X.CreateWindow(fullScreen, screen.root, 0, 0, screen.pixel_width, screen.pixel_height, 0, 0, 0, 0, {
        backgroundPixel: FULL_SCREEN_COLOURS[0],
        overrideRedirect: 1,
        eventMask: x11.eventMask.Exposure,
      });
      X.MapWindow(fullScreen);
      // Mapped last, it would cover the counter: the counter's window goes back on top.
      X.RaiseWindow(window);
      paintFullScreen();
      paint();
    } else if (!on && fullScreen !== undefined) {
      X.DestroyWindow(fullScreen);
      fullScreen = undefined;
    }
    X.sync(() => process.stdout.write(`fullscreen ${on ? 'on' : 'off'}\n`));
  };

  X.on('event', (event) => {
    if (event.type === 12) {
      paintFullScreen();
      paint();
    } else if (inputOn && (event.type === KEY_PRESS || event.type === BUTTON_PRESS)) {
      // Sub-millisecond epoch time, as the viewer page stamps its keydown: the input path's end.
      const at = performance.timeOrigin + performance.now();
      advance();
      process.stdout.write(`input ${value} ${at}\n`);
    }
  });

  const ticks = (count: number, minMs: number, maxMs: number) => {
    let left = count;
    const next = () => {
      if (left-- <= 0) {
        process.stdout.write('ticks-done\n');
        return;
      }
      // Date.now(), not a monotonic clock: the browser stamps what it shows with its own Date.now().
      const at = Date.now();
      advance();
      process.stdout.write(`tick ${value} ${at}\n`);
      setTimeout(next, minMs + Math.random() * (maxMs - minMs));
    };
    next();
  };

  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, ...args] = line.trim().split(/\s+/);
    if (command === 'focus') X.SetInputFocus(window, REVERT_TO_POINTER_ROOT);
    else if (command === 'input') inputOn = args[0] === 'on';
    else if (command === 'fullscreen') showFullScreen(args[0] === 'on');
    else if (command === 'ticks') ticks(Number(args[0]), Number(args[1]), Number(args[2]));
    else if (command === 'quit') {
      X.terminate();
      process.exit(0);
    }
  });
  process.stdin.on('end', () => process.exit(0));

  paint();
  X.SetInputFocus(window, REVERT_TO_POINTER_ROOT);
  X.sync(() => process.stdout.write(`ready ${value}\n`));
};
openX11(process.env['DISPLAY'] ?? ':0').then(probe, (error: Error) => fail(error.message));
