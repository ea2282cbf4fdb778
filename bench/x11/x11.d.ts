/**
 * The part of the `x11` package (pure-JavaScript X11 client, no types of its own) that the
 * benchmark's test client uses.
 */
declare module 'x11' {
  export interface XScreen {
    root: number;
    white_pixel: number;
    black_pixel: number;
    width_in_pixels: number;
    height_in_pixels: number;
  }

  export interface XEvent {
    /** X event code: 2 KeyPress, 4 ButtonPress, 12 Expose, … */
    type: number;
    name?: string;
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
    eventMask: { KeyPress: number; ButtonPress: number; Exposure: number; [name: string]: number };
  }

  const x11: X11;
  export default x11;
}
