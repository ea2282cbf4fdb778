/**
 * The part of the `x11` package (pure-JavaScript X11 client, no types of its own) that Lifeline
 * uses: the core requests and the DAMAGE, XFixes, MIT-SHM and SHAPE extensions, for the agent's
 * capture (`x11-capture.ts`), window list (`x11-windows.ts`) and guidance overlay (`x11-overlay.ts`),
 * and the benchmark's test client. Connections are opened by `openX11` (`x11-connection.ts`).
 */
declare module 'x11' {
  export interface XScreen {
    root: number;
    /** Bits per pixel of the root window's colour (24 for TrueColor). */
    root_depth: number;
    white_pixel: number;
    black_pixel: number;
    /** The screen's size in pixels, as the connection setup reports it. */
    pixel_width: number;
    pixel_height: number;
  }

  export interface XEvent {
    /** X event code: 2 KeyPress, 4 ButtonPress, 12 Expose, … */
    type: number;
    /** Set for extension events: `DamageNotify`, `CursorNotify`, `XIRawMotion`, … */
    name?: string;
    /** The (full-width) sequence number of this client's last request the server had processed. */
    seq?: number;
    /** DamageNotify: the damaged rectangle (at report level BoundingBox, the region's bounding box). */
    area?: { x: number; y: number; w: number; h: number };
  }

  export type XCallback<T> = (error: Error | null | undefined, result: T) => void;

  export interface XWindowAttributes {
    /** 0 Unmapped, 1 Unviewable, 2 Viewable. */
    mapState: number;
    overrideRedirect: number | boolean;
  }

  export interface XGeometry {
    xPos: number;
    yPos: number;
    width: number;
    height: number;
    borderWidth: number;
  }

  export interface XProperty {
    type: number;
    data: Buffer;
  }

  export interface XImage {
    depth: number;
    data: Buffer;
  }

  export interface XPointer {
    rootX: number;
    rootY: number;
    sameScreen: number;
  }

  /** DAMAGE (x11/lib/ext/damage.js): events when something is drawn. */
  export interface DamageExtension {
    Create(damage: number, drawable: number, level: number): void;
    Subtract(damage: number, repair: number, parts: number): void;
  }

  /** XFixes (x11/lib/ext/fixes.js): the cursor's image. */
  export interface FixesExtension {
    SelectCursorInput(window: number, mask: number): void;
    GetCursorImage(callback: (error: Error | null, image: XCursorImage) => void): void;
  }

  export interface XCursorImage {
    width: number;
    height: number;
    xhot: number;
    yhot: number;
    cursorSerial: number;
    /** Premultiplied ARGB, one little-endian 32-bit word per pixel. */
    cursorImage: Buffer;
  }

  /** MIT-SHM (x11/lib/ext/shm.js): pictures copied through shared memory instead of the socket. */
  export interface ShmExtension {
    /** A shared-memory segment attached to the server; fails when the connection cannot pass one. */
    createSegment(size: number, callback: (error: Error | null, segment?: ShmSegment) => void): void;
    /** The bare request: the X server copies the image into segment `shmseg` at `offset`, nothing is read back. */
    GetImage(
      drawable: number,
      x: number,
      y: number,
      width: number,
      height: number,
      planeMask: number,
      format: number,
      shmseg: number,
      offset: number,
      callback: (error: Error | null) => void,
    ): void;
  }

  /**
   * Makes the segments (x11/lib/shm-provider.js): this one's `fd` flavor attaches a file descriptor
   * (a file on /dev/shm), which the client reads with positional reads.
   */
  export interface ShmProvider {
    flavor: 'fd';
    zeroCopy: false;
    create(size: number): { size: number; fd: number; buffer: Buffer };
    commit(segment: { fd: number; buffer: Buffer; size: number }, offset?: number, length?: number): void;
    sync(segment: { fd: number; buffer: Buffer; size: number }, offset?: number, length?: number): void;
    destroy(segment: { fd: number | null }): void;
  }

  export interface ShmSegment {
    /** The segment's XID, for the bare requests. */
    shmseg: number;
    /** The segment's bytes as last read back. */
    buffer: Buffer;
    /** Reads `length` bytes from `offset` of the segment into `buffer`. */
    readback(offset: number, length: number): void;
    detach(): void;
  }

  /** SHAPE (x11/lib/ext/shape.js): windows of any outline. */
  export interface ShapeExtension {
    Kind: { Bounding: number; Clip: number; Input: number };
    Op: { Set: number; Union: number; Intersect: number; Subtract: number; Invert: number };
    /** `rectangles`: [x, y, width, height] each. */
    Rectangles(op: number, kind: number, window: number, x: number, y: number, rectangles: number[][]): void;
  }

  /** XInput (x11/lib/ext/xinput.js): XI2 event selection, for the pointer's raw motion. */
  export interface XInputExtension {
    /** Set once XI2 was announced (XIQueryVersion); null on a server without XI2. */
    xi2: { majorVersion: number; minorVersion: number } | null;
    AllMasterDevices: number;
    /** One bit per XI2 event type, by name (`RawMotion`, …). */
    EventMask: { RawMotion: number } & Record<string, number>;
    XISelectEvents(window: number, masks: { deviceId: number; mask: number }): void;
  }

  /** The extensions `XClient.require` loads, by the package's name for each. */
  export interface XExtensions {
    damage: DamageExtension;
    fixes: FixesExtension;
    xinput: XInputExtension;
    shm: ShmExtension;
    shape: ShapeExtension;
  }

  export interface XClient {
    /** The sequence number of the last request sent (full width, never wraps). */
    seq_num: number;
    AllocID(): number;
    CreateWindow(
      id: number,
      parent: number,
      x: number,
      y: number,
      width: number,
      height: number,
      borderWidth: number,
      depth: number,
      windowClass: number,
      visual: number,
      values: Record<string, number>,
    ): void;
    MapWindow(id: number): void;
    DestroyWindow(id: number): void;
    RaiseWindow(id: number): void;
    CreateGC(id: number, drawable: number, values: Record<string, number>): void;
    /** `rectangles` is a flat list: x, y, width, height, x, y, … */
    PolyFillRectangle(drawable: number, gc: number, rectangles: number[]): void;
    SetInputFocus(window: number, revertTo: number): void;
    ChangeWindowAttributes(id: number, values: Record<string, number>): void;
    /** `children` in stacking order, bottom first. */
    QueryTree(id: number, callback: XCallback<{ root: number; parent: number; children: number[] }>): void;
    GetWindowAttributes(id: number, callback: XCallback<XWindowAttributes>): void;
    GetGeometry(id: number, callback: XCallback<XGeometry>): void;
    TranslateCoordinates(
      source: number,
      destination: number,
      x: number,
      y: number,
      callback: XCallback<{ destX: number; destY: number }>,
    ): void;
    InternAtom(onlyIfExists: boolean, name: string, callback: XCallback<number>): void;
    /** `type` 0 is AnyPropertyType; offset and length in 4-byte units. */
    GetProperty(
      remove: number,
      id: number,
      name: number,
      type: number,
      offset: number,
      length: number,
      callback: XCallback<XProperty>,
    ): void;
    GetImage(
      format: number,
      drawable: number,
      x: number,
      y: number,
      width: number,
      height: number,
      planeMask: number,
      callback: (error: Error | null, image: XImage | undefined) => void,
    ): void;
    QueryPointer(window: number, callback: (error: Error | null, pointer: XPointer) => void): void;
    /** Loads an extension on first use (later calls get the same object). */
    require<Name extends keyof XExtensions>(
      name: Name,
      callback: (error: Error | null, extension: XExtensions[Name]) => void,
    ): void;
    /** Round trip: the callback runs once the server has processed every earlier request. */
    sync(callback: (error?: Error | null) => void): void;
    /** Ends the connection at once (requests already buffered are sent first). */
    terminate(): void;
    /** Round trip, then close the connection; the callback runs once the socket is gone. */
    close(callback?: (error?: Error | null) => void): void;
    on(event: 'event', listener: (event: XEvent) => void): this;
    /** X errors of requests without a callback, and the socket's errors once set up. */
    on(event: 'error', listener: (error: Error) => void): this;
    /** The server closed the connection. */
    on(event: 'end', listener: () => void): this;
    off(event: 'error', listener: (error: Error) => void): this;
  }

  export interface XDisplay {
    client: XClient;
    screen: XScreen[];
    /** Pixmap formats by depth ('24', …). */
    format?: Record<string, { bits_per_pixel: number }>;
  }

  export interface X11 {
    /**
     * Errors while connecting reach `callback`; a refused handshake and every later error reach the
     * returned client's 'error' (thrown when nothing listens).
     */
    createClient(
      options: { display?: string; shm?: ShmProvider },
      callback: (error: Error | null | undefined, display: XDisplay) => void,
    ): XClient;
    eventMask: {
      KeyPress: number;
      ButtonPress: number;
      Exposure: number;
      SubstructureNotify: number;
      [name: string]: number;
    };
  }

  const x11: X11;
  export default x11;
}
