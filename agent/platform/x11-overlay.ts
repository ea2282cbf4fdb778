import x11, { type XClient, type XDisplay } from 'x11';
import { requireExt, type ShapeExtension } from 'x11/lib/ext/shape.js';
import type { GuidanceOverlay, PixelRect } from '../core/ports.ts';

/** The marks' colour, as a 24-bit TrueColor pixel: a red that stands out on most desktops. */
const MARK_PIXEL = 0xff2020;
/** Most rectangles in one SHAPE request, well inside the core protocol's request size. */
const RECTANGLES_PER_REQUEST = 4096;
/** InputOutput window class, and CopyFromParent for depth and visual. */
const INPUT_OUTPUT = 1;
const COPY_FROM_PARENT = 0;

interface Connection {
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
  let connecting: Promise<Connection> | undefined;
  let closed = false;

  const connect = () => {
    connecting ??= new Promise<Connection>((resolve, reject) => {
      const created = x11.createClient({ display }, (error, xDisplay) => {
        if (error || !xDisplay) {
          reject(error ?? new Error(`cannot open the X display ${display}`));
          return;
        }
        openOverlay(xDisplay).then(resolve, reject);
      });
      created.on('error', reject);
    });
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
      const connection = await connecting.catch(() => undefined);
      if (!connection) return;
      connection.client.DestroyWindow(connection.window);
      await new Promise<void>((resolve) => connection.client.close(() => resolve()));
    },
  };
}

async function openOverlay(xDisplay: XDisplay): Promise<Connection> {
  const client = xDisplay.client;
  // An X error (a request the server refused) must not throw out of the socket's handler: the
  // next paint's round trip fails instead, and the session reports it once.
  client.on('error', () => undefined);
  const screen = xDisplay.screen[0];
  if (!screen) throw new Error('the X display has no screen');
  const shape = await new Promise<ShapeExtension>((resolve, reject) =>
    requireExt(xDisplay, (error, ext) => (error ? reject(error) : resolve(ext))),
  );
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
