import type { MessageOf } from '../../../protocol/index.ts';
import { containedRect } from '../input/geometry.ts';

type CursorShape = MessageOf<'cursor-shape'>;

/**
 * The device's cursor, drawn by the console from the agent's `cursor-shape` and `cursor-position`
 * messages (agents that leave the cursor out of the picture send them), so it moves without waiting
 * for video. For an operator who watches, an image over the screen at the device pointer's position,
 * at the picture's scale; for the operator in control, the screen's CSS cursor, which follows their
 * own mouse at once (the image is hidden then, or it would trail behind as a second pointer).
 * Agents that draw the cursor into the picture send neither message, and nothing is drawn.
 */
export class RemoteCursor {
  readonly #screen: HTMLCanvasElement;
  readonly #image: HTMLCanvasElement;
  readonly #resize: ResizeObserver | undefined;
  #shape: CursorShape | undefined;
  #css = '';
  #position: { x: number; y: number } | undefined;
  #video: { width: number; height: number } | undefined;
  #inControl = false;

  /** `image` is a canvas placed over `screen`, in the same positioned container. */
  constructor(screen: HTMLCanvasElement, image: HTMLCanvasElement) {
    this.#screen = screen;
    image.hidden = true;
    this.#image = image;
    // The screen is resized by the layout (fit to the window, actual size) without any message.
    this.#resize =
      typeof ResizeObserver === 'undefined' ? undefined : new ResizeObserver(() => this.#place());
    this.#resize?.observe(screen);
  }

  /** The video's size in pixels, which positions are given in. */
  configure(width: number, height: number): void {
    this.#video = { width, height };
    this.#place();
  }

  /** A new cursor image; refused (ignored) when its pixels do not match its size. */
  shape(message: CursorShape): void {
    if (message === this.#shape) return;
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(message.rgba), (c) => c.charCodeAt(0));
    } catch {
      return;
    }
    if (bytes.byteLength !== message.width * message.height * 4) return;
    const context = this.#image.getContext('2d');
    if (!context) return;
    this.#image.width = message.width;
    this.#image.height = message.height;
    const pixels = context.createImageData(message.width, message.height);
    pixels.data.set(bytes);
    context.putImageData(pixels, 0, 0);
    this.#shape = message;
    this.#css = `url(${this.#image.toDataURL('image/png')}) ${message.hotX} ${message.hotY}, default`;
    this.#place();
  }

  move(message: MessageOf<'cursor-position'>): void {
    this.#position = { x: message.x, y: message.y };
    this.#place();
  }

  /** Whether this operator's own mouse drives the device (CSS cursor) or it watches (drawn image). */
  setControl(inControl: boolean): void {
    if (this.#inControl === inControl) return;
    this.#inControl = inControl;
    this.#place();
  }

  /** The video stopped (view withdrawn, session over): no cursor until the agent sends one again. */
  reset(): void {
    this.#shape = undefined;
    this.#position = undefined;
    this.#css = '';
    this.#place();
  }

  dispose(): void {
    this.#resize?.disconnect();
    this.#image.hidden = true;
    this.#screen.style.cursor = '';
  }

  #place(): void {
    this.#screen.style.cursor = this.#inControl ? this.#css : '';
    const shape = this.#shape;
    const position = this.#position;
    const video = this.#video;
    const screen = this.#screen;
    const visible =
      !this.#inControl &&
      shape !== undefined &&
      position !== undefined &&
      video !== undefined &&
      position.x >= 0 &&
      position.y >= 0 &&
      position.x < video.width &&
      position.y < video.height &&
      screen.clientWidth > 0;
    this.#image.hidden = !visible;
    if (!visible) return;
    // Where the picture is drawn in the screen's box: all of it live, letterboxed in the player.
    const picture = containedRect(
      {
        left: screen.offsetLeft,
        top: screen.offsetTop,
        width: screen.clientWidth,
        height: screen.clientHeight,
      },
      video.width,
      video.height,
    );
    const scale = picture.width / video.width;
    const style = this.#image.style;
    style.left = `${picture.left + (position.x - shape.hotX) * scale}px`;
    style.top = `${picture.top + (position.y - shape.hotY) * scale}px`;
    style.width = `${shape.width * scale}px`;
    style.height = `${shape.height * scale}px`;
  }
}
