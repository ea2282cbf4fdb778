import type { ShapeExtension, XClient } from 'x11';
import type { GuidanceLayer, GuidanceOverlay, PixelRect } from '../core/ports.ts';
import { openX11, type X11Connection } from './x11-connection.ts';

/** Most rectangles in one SHAPE request, well inside the core protocol's request size. */
const RECTANGLES_PER_REQUEST = 4096;
/** InputOutput window class, and CopyFromParent for depth and visual. */
const INPUT_OUTPUT = 1;
const COPY_FROM_PARENT = 0;

interface Overlay {
  client: XClient;
  screen: X11Connection['screen'];
  shape: ShapeExtension;
  /** One window per colour (a 24-bit TrueColor pixel), made on its first mark. */
  windows: Map<number, number>;
}

/**
 * Guidance marks on an X11 display: per operator's colour, one override-redirect window over the
 * whole desktop, painted in that colour and shaped (SHAPE extension) to the marks' pixels, with an empty input shape.
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
    async show(layers: readonly GuidanceLayer[]): Promise<void> {
      if (closed) return;
      const overlay = await connect();
      const { client, windows } = overlay;
      for (const layer of layers) {
        if (!windows.has(layer.colour)) windows.set(layer.colour, openWindow(overlay, layer.colour));
      }
      // A colour without marks now keeps its window with an empty shape: it shows no pixel.
      for (const [colour, window] of windows) {
        const rectangles = layers.find((layer) => layer.colour === colour)?.rectangles ?? [];
        shapeTo(overlay, window, rectangles);
        // Windows mapped since must not hide the marks.
        if (rectangles.length > 0) client.RaiseWindow(window);
      }
      await roundTrip(client);
    },
    async close(): Promise<void> {
      closed = true;
      if (!connecting) return;
      const overlay = await connecting.catch(() => undefined);
      if (!overlay) return;
      for (const window of overlay.windows.values()) overlay.client.DestroyWindow(window);
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
  return { client, screen, shape, windows: new Map() };
}

/** A window of one colour over the whole desktop, showing nothing and taking no input until shaped. */
function openWindow({ client, screen, shape }: Overlay, colour: number): number {
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
    { backgroundPixel: colour, overrideRedirect: 1 },
  );
  // Nothing shown and nothing taken: empty bounding and input shapes.
  shape.Rectangles(shape.Op.Set, shape.Kind.Bounding, window, 0, 0, []);
  shape.Rectangles(shape.Op.Set, shape.Kind.Input, window, 0, 0, []);
  client.MapWindow(window);
  return window;
}

/** Shapes a window to exactly these rectangles; an empty Set leaves nothing shown. */
function shapeTo({ shape }: Overlay, window: number, rectangles: readonly PixelRect[]): void {
  const flat = rectangles.map((r) => [r.x, r.y, r.width, r.height]);
  shape.Rectangles(shape.Op.Set, shape.Kind.Bounding, window, 0, 0, flat.slice(0, RECTANGLES_PER_REQUEST));
  for (let at = RECTANGLES_PER_REQUEST; at < flat.length; at += RECTANGLES_PER_REQUEST) {
    const chunk = flat.slice(at, at + RECTANGLES_PER_REQUEST);
    shape.Rectangles(shape.Op.Union, shape.Kind.Bounding, window, 0, 0, chunk);
  }
}

function roundTrip(client: XClient): Promise<void> {
  return new Promise((resolve, reject) => client.sync((error) => (error ? reject(error) : resolve())));
}
