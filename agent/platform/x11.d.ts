/**
 * The part of the `x11` package (pure-JavaScript X11 client, no types of its own) that Lifeline
 * uses: the agent's window list and tracking (`x11-windows.ts`) and the benchmark's test client.
 */
declare module 'x11' {
  export interface XScreen {
    root: number;
    white_pixel: number;
    black_pixel: number;
    pixel_width: number;
    pixel_height: number;
  }

  export interface XEvent {
    /** X event code: 2 KeyPress, 4 ButtonPress, 12 Expose, … */
    type: number;
    name?: string;
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

  export interface XClient {
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
    /** Round trip: the callback runs once the server has processed every earlier request. */
    sync(callback: (error?: Error | null) => void): void;
    terminate(): void;
    on(event: 'event', listener: (event: XEvent) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
  }

  export interface XDisplay {
    client: XClient;
    screen: XScreen[];
  }

  export interface X11 {
    createClient(
      options: { display?: string },
      callback: (error: Error | null | undefined, display: XDisplay) => void,
    ): { on(event: 'error', listener: (error: Error) => void): void };
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
