import x11, { type XCallback, type XClient } from 'x11';
import type { AppWindow, ScreenArea, WindowState } from './platform.ts';
import { openX11, type X11Connection } from './x11-connection.ts';

/** X's predefined atoms (X11 protocol, appendix B). */
const WM_NAME_ATOM = 39;
/** GetWindowAttributes `mapState`: the window and all its ancestors are mapped. */
const VIEWABLE = 2;
/** Longest title read, in 4-byte units (1 KB). */
const TITLE_LENGTH_UNITS = 256;
/** Longest title reported, in characters (the protocol's limit). */
const MAX_TITLE_CHARS = 200;
/** How long a burst of window events is gathered before the shared window is looked at again, in ms. */
const SETTLE_MS = 60;
/** How deep below a top-level window its title is looked for: a window manager's frame, then the client. */
const TITLE_DEPTH = 2;

/** Turns one x11 request with a node-style callback into a promise. */
function call<T>(request: (callback: XCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    request((error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** The whole screen in root coordinates: what windows are clipped to. */
function desktopOf({ screen }: X11Connection): ScreenArea {
  return { x: 0, y: 0, width: screen.pixel_width, height: screen.pixel_height };
}

/** The part of `area` inside `bounds`; width or height 0 when they do not meet. */
export function intersect(area: ScreenArea, bounds: ScreenArea): ScreenArea {
  const x = Math.max(area.x, bounds.x);
  const y = Math.max(area.y, bounds.y);
  const right = Math.min(area.x + area.width, bounds.x + bounds.width);
  const bottom = Math.min(area.y + area.height, bounds.y + bounds.height);
  return { x, y, width: Math.max(0, right - x), height: Math.max(0, bottom - y) };
}

async function titleOf(X: XClient, id: number, netWmName: number, depth: number): Promise<string> {
  for (const atom of netWmName ? [netWmName, WM_NAME_ATOM] : [WM_NAME_ATOM]) {
    const property = await call<{ data: Buffer }>((done) =>
      X.GetProperty(0, id, atom, 0, 0, TITLE_LENGTH_UNITS, done),
    ).catch(() => undefined);
    const title = property?.data.toString('utf8').replace(/\p{C}/gu, ' ').trim();
    if (title) return title.slice(0, MAX_TITLE_CHARS);
  }
  if (depth === 0) return '';
  // A reparenting window manager puts the client (which holds the title) inside its frame.
  const tree = await call<{ children: number[] }>((done) => X.QueryTree(id, done)).catch(() => undefined);
  for (const child of tree?.children ?? []) {
    const title = await titleOf(X, child, netWmName, depth - 1);
    if (title) return title;
  }
  return '';
}

/** A top-level window's inside in root coordinates, or undefined when it is gone. */
async function areaOf(connection: X11Connection, id: number): Promise<ScreenArea | undefined> {
  const X = connection.client;
  const { root } = connection.screen;
  try {
    const geometry = await call<{ width: number; height: number }>((done) => X.GetGeometry(id, done));
    const origin = await call<{ destX: number; destY: number }>((done) =>
      X.TranslateCoordinates(id, root, 0, 0, done),
    );
    return { x: origin.destX, y: origin.destY, width: geometry.width, height: geometry.height };
  } catch {
    return undefined;
  }
}

async function isViewable(X: XClient, id: number): Promise<boolean | undefined> {
  try {
    const attributes = await call<{ mapState: number }>((done) => X.GetWindowAttributes(id, done));
    return attributes.mapState === VIEWABLE;
  } catch {
    return undefined;
  }
}

/**
 * The viewable top-level windows of an X display that have a title, bottom of the stack first: what
 * the end user may share alone. Override-redirect windows (menus, tooltips) have no title and are
 * left out with the rest of the untitled ones.
 */
export async function listX11Windows(display: string): Promise<AppWindow[]> {
  // Requests on a window that vanished fail through their own callbacks; the rest is dropped (openX11).
  const connection = await openX11(display);
  try {
    const X = connection.client;
    const { root } = connection.screen;
    const netWmName = await call<number>((done) => X.InternAtom(false, '_NET_WM_NAME', done));
    const tree = await call<{ children: number[] }>((done) => X.QueryTree(root, done));
    const windows: AppWindow[] = [];
    for (const id of tree.children) {
      if (!(await isViewable(X, id))) continue;
      const title = await titleOf(X, id, netWmName, TITLE_DEPTH);
      const area = await areaOf(connection, id);
      if (!title || !area) continue;
      const visible = intersect(area, desktopOf(connection));
      if (visible.width === 0 || visible.height === 0) continue;
      windows.push({ id, title, ...area });
    }
    return windows;
  } finally {
    connection.client.terminate();
  }
}

/**
 * Follows one top-level window: `onChange` hears its state after every move, resize, restack, map
 * or unmap of any top-level window (SubstructureNotify on the root), when it differs from the last
 * state told, and undefined once the window is gone. Resolves, with the first state already told,
 * to a function that stops following.
 */
export async function watchX11Window(
  display: string,
  id: number,
  onChange: (state: WindowState | undefined) => void,
): Promise<() => void> {
  const connection = await openX11(display);
  const X = connection.client;
  const { root } = connection.screen;
  let stopped = false;
  let last = '';
  let timer: ReturnType<typeof setTimeout> | undefined;

  const look = async (): Promise<void> => {
    const state = await windowState(connection, id);
    if (stopped) return;
    const key = JSON.stringify(state ?? null);
    if (key === last) return;
    last = key;
    onChange(state);
    if (!state) stop();
  };
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    connection.client.terminate();
  };

  X.ChangeWindowAttributes(root, { eventMask: x11.eventMask.SubstructureNotify });
  X.on('event', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void look(), SETTLE_MS);
  });
  await look();
  return stop;
}

/** Where the window is on the screen, whether it shows, and which parts of it others cover. */
async function windowState(connection: X11Connection, id: number): Promise<WindowState | undefined> {
  const X = connection.client;
  const { root } = connection.screen;
  const viewable = await isViewable(X, id);
  const area = await areaOf(connection, id);
  if (viewable === undefined || !area) return undefined;
  const onScreen = intersect(area, desktopOf(connection));
  const hidden = !viewable || onScreen.width === 0 || onScreen.height === 0;
  const covered: ScreenArea[] = [];
  if (!hidden) {
    const tree = await call<{ children: number[] }>((done) => X.QueryTree(root, done)).catch(() => ({
      children: [] as number[],
    }));
    // Children come bottom first: everything after the shared window is stacked above it.
    for (const above of tree.children.slice(tree.children.indexOf(id) + 1)) {
      if (!(await isViewable(X, above))) continue;
      const other = await areaOf(connection, above);
      if (!other) continue;
      const overlap = intersect(other, onScreen);
      if (overlap.width === 0 || overlap.height === 0) continue;
      covered.push({ ...overlap, x: overlap.x - onScreen.x, y: overlap.y - onScreen.y });
    }
  }
  return { area: onScreen, hidden, covered };
}
