/**
 * What the guidance overlay uses of the `x11` package beyond the core declared in bench/x11/x11.d.ts:
 * a few more core requests and the SHAPE extension (x11/lib/ext/shape.js).
 */
declare module 'x11' {
  interface XScreen {
    /** The screen's size in pixels, as the connection setup reports it. */
    pixel_width: number;
    pixel_height: number;
  }

  interface XClient {
    DestroyWindow(id: number): void;
    RaiseWindow(id: number): void;
    /** Round trip, then close the connection; the callback runs once the socket is gone. */
    close(callback?: (error?: Error | null) => void): void;
  }
}

declare module 'x11/lib/ext/shape.js' {
  import type { XDisplay } from 'x11';

  export interface ShapeExtension {
    Kind: { Bounding: number; Clip: number; Input: number };
    Op: { Set: number; Union: number; Intersect: number; Subtract: number; Invert: number };
    /** `rectangles`: [x, y, width, height] each. */
    Rectangles(op: number, kind: number, window: number, x: number, y: number, rectangles: number[][]): void;
  }

  export function requireExt(
    display: XDisplay,
    callback: (error: Error | null, ext: ShapeExtension) => void,
  ): void;
}
