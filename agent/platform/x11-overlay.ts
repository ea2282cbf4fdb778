import type { ShapeExtension, XClient } from 'x11';
import type { GuidanceOverlay, PixelRect } from '../core/ports.ts';
import { openX11, type X11Connection } from './x11-connection.ts';

/** The marks' colour, as a 24-bit TrueColor pixel: a red that stands out on most desktops. */
const MARK_PIXEL = 0xff2020;
/** Most rectangles in one SHAPE request, well inside the core protocol's request size. */
const RECTANGLES_PER_REQUEST = 4096;
/** InputOutput window class, and CopyFromParent for depth and visual. */
const INPUT_OUTPUT = 1;
const COPY_FROM_PARENT = 0;

interface Overlay {
  client: XClient;
  shape: ShapeExtension;
  window: number;
}

/**
 * Guidance marks on an X11 display: one override-redirect window over the whole desktop, painted in
 * one colour and shaped (SHAPE extension) to the marks' pixels, with an empty input shape.
 *
 * Why a shaped window rather than a transparent one: a translucent window needs a compositing
 * manager, which many X desktops (and Xvfb) do not run, so it would paint the desktop black; a
 * shaped window shows only its marks on any X server. The empty input shape makes every click and
 * key pass through to the windows below: the overlay never takes input. Override-redirect keeps
 * window managers from framing, moving or focusing it.
 *
 * The connection opens on the first paint, so sessions without guidance never touch the display.
 */
export function x11GuidanceOverlay(display: string): GuidanceOverlay {
  let connecting: Promise<Overlay> | undefined;
  let closed = false;

  const connect = () => {
    connecting ??= openX11(display).then(openOverlay);
    return connecting;
  };

  return {
    async show(rectangles: readonly PixelRect[]): Promise<void> {
      if (closed) return;
      const { client, shape, window } = await connect();
      const flat = rectangles.map((r) => [r.x, r.y, r.width, r.height]);
      // An empty Set leaves nothing: the window is there but shows no pixel.
      shape.Rectangles(
        shape.Op.Set,
        shape.Kind.Bounding,
        window,
        0,
        0,
        flat.slice(0, RECTANGLES_PER_REQUEST),
      );
      for (let at = RECTANGLES_PER_REQUEST; at < flat.length; at += RECTANGLES_PER_REQUEST) {
        const chunk = flat.slice(at, at + RECTANGLES_PER_REQUEST);
        shape.Rectangles(shape.Op.Union, shape.Kind.Bounding, window, 0, 0, chunk);
      }
      // Windows mapped since must not hide the marks.
      if (flat.length > 0) client.RaiseWindow(window);
      await roundTrip(client);
    },
    async close(): Promise<void> {
      closed = true;
      if (!connecting) return;
      const overlay = await connecting.catch(() => undefined);
      if (!overlay) return;
      overlay.client.DestroyWindow(overlay.window);
      await new Promise<void>((resolve) => overlay.client.close(() => resolve()));
    },
  };
}

/**
 * An X error (a request the server refused) is dropped (openX11): the next paint's round trip fails
 * instead, and the session reports it once.
 */
async function openOverlay(connection: X11Connection): Promise<Overlay> {
  const { client, screen } = connection;
  const shape = await connection.extension('shape');
  const window = client.AllocID();
  client.CreateWindow(
    window,
    screen.root,
    0,
    0,
    screen.pixel_width,
    screen.pixel_height,
    0,
    COPY_FROM_PARENT,
    INPUT_OUTPUT,
    COPY_FROM_PARENT,
    { backgroundPixel: MARK_PIXEL, overrideRedirect: 1 },
  );
  // Nothing shown and nothing taken until the first mark: empty bounding and input shapes.
  shape.Rectangles(shape.Op.Set, shape.Kind.Bounding, window, 0, 0, []);
  shape.Rectangles(shape.Op.Set, shape.Kind.Input, window, 0, 0, []);
  client.MapWindow(window);
  await roundTrip(client);
  return { client, shape, window };
}

function roundTrip(client: XClient): Promise<void> {
  return new Promise((resolve, reject) => client.sync((error) => (error ? reject(error) : resolve())));
}
