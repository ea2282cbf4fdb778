/**
 * `npx tsx bench/decode-paths.ts`: what each way of turning a decoded `VideoFrame` into pixels on
 * the console's canvas costs in this headless Chromium, at 1280×720 and 1920×1080 (issue 13). Every
 * picture of a libx264 test pattern (a full-screen change per picture) is decoded once and each
 * way is timed on the same picture, in the video worker's place and on the page. Prints p50 / p95 ms.
 * An argument (`720`, `1080`) measures that height only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeTestPattern } from '../tests/console/h264-fixture.ts';
import { launchChromium } from '../tests/support/browser.ts';

/** `npx tsx bench/decode-paths.ts 1080` measures only the sizes of that height. */
const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
].filter(({ height }) => process.argv[2] === undefined || String(height) === process.argv[2]);
/** Pictures per size (a keyframe, then deltas); more makes the page's script too large to evaluate. */
const FRAMES = 20;

/** Runs in the worker: decodes, and times each conversion on each picture. */
function workerMain(): void {
  const scope = globalThis as unknown as {
    onmessage: (event: MessageEvent) => void;
    postMessage(message: unknown, transfer?: Transferable[]): void;
  };
  const costs: Record<string, number[]> = {};
  const note = (name: string, ms: number) => {
    costs[name] ??= [];
    costs[name].push(ms);
  };
  let canvasOpaque: OffscreenCanvas | undefined;
  let canvasDefault: OffscreenCanvas | undefined;
  let decode: Record<string, number[]> = {};
  const main = async ({ data }: MessageEvent) => {
    const { units, acceleration } = data as {
      units: Array<{ keyframe: boolean; data: Uint8Array }>;
      acceleration: HardwareAcceleration;
    };
    decode = {};
    let pending: ((frame: VideoFrame) => void) | undefined;
    const decoder = new VideoDecoder({
      output: (frame) => pending?.(frame),
      error: (error) => scope.postMessage({ error: String(error) }),
    });
    decoder.configure({ codec: 'avc1.42e028', optimizeForLatency: true, hardwareAcceleration: acceleration });
    let i = 0;
    for (const unit of units) {
      const started = performance.now();
      const frame = await new Promise<VideoFrame>((resolve) => {
        pending = resolve;
        decoder.decode(
          new EncodedVideoChunk({
            type: unit.keyframe ? 'key' : 'delta',
            timestamp: i++ * 1000,
            data: unit.data,
          }),
        );
      });
      decode[acceleration] = [...(decode[acceleration] ?? []), performance.now() - started];
      const { displayWidth: w, displayHeight: h } = frame;
      canvasOpaque ??= new OffscreenCanvas(w, h);
      canvasDefault ??= new OffscreenCanvas(w, h);
      const opaque = canvasOpaque.getContext('2d', { alpha: false })!;
      const plain = canvasDefault.getContext('2d')!;
      let t = performance.now();
      opaque.drawImage(frame, 0, 0);
      const b1 = canvasOpaque.transferToImageBitmap();
      note(
        'worker: OffscreenCanvas 2d {alpha:false} drawImage + transferToImageBitmap',
        performance.now() - t,
      );
      t = performance.now();
      plain.drawImage(frame, 0, 0);
      const b2 = canvasDefault.transferToImageBitmap();
      note('worker: OffscreenCanvas 2d (default) drawImage + transferToImageBitmap', performance.now() - t);
      t = performance.now();
      const b3 = await createImageBitmap(frame);
      note('worker: createImageBitmap(VideoFrame)', performance.now() - t);
      t = performance.now();
      const rgba = new Uint8ClampedArray(w * h * 4);
      await frame.copyTo(rgba, { format: 'RGBA' });
      note('worker: VideoFrame.copyTo RGBA', performance.now() - t);
      t = performance.now();
      const bgra = new Uint8ClampedArray(w * h * 4);
      await frame.copyTo(bgra, { format: 'BGRA' });
      note('worker: VideoFrame.copyTo BGRA', performance.now() - t);
      t = performance.now();
      const srgb = new Uint8ClampedArray(w * h * 4);
      await frame.copyTo(srgb, { format: 'RGBA', colorSpace: 'srgb' });
      note("worker: VideoFrame.copyTo RGBA, colorSpace 'srgb' (the worker path)", performance.now() - t);
      t = performance.now();
      const swapped = new Uint8ClampedArray(w * h * 4);
      await frame.copyTo(swapped, { format: 'BGRA' });
      const words = new Uint32Array(swapped.buffer);
      for (let k = 0; k < words.length; k++) {
        const v = words[k]!;
        words[k] = (v & 0xff00ff00) | ((v & 0xff) << 16) | ((v >>> 16) & 0xff);
      }
      note('worker: copyTo BGRA + R and B swapped in JS (RGBA for ImageData)', performance.now() - t);
      t = performance.now();
      const i420 = new Uint8Array(frame.allocationSize());
      await frame.copyTo(i420);
      note('worker: VideoFrame.copyTo (I420, no conversion)', performance.now() - t);
      frame.close();
      b1.close();
      b2.close();
      scope.postMessage({ bitmap: b3, rgba, bgra, width: w, height: h }, [b3, rgba.buffer, bgra.buffer]);
      await new Promise<void>((resolve) => {
        scope.onmessage = () => resolve();
      });
      scope.onmessage = () => {};
    }
    decoder.close();
    scope.onmessage = main;
    scope.postMessage({ done: true, costs, decode });
  };
  scope.onmessage = main;
}

/** Runs on the page: the same pictures decoded on the page and drawn in each way. */
async function pageMain(
  units: Array<{ keyframe: boolean; data: number[] }>,
  workerSource: string,
): Promise<unknown> {
  const costs: Record<string, number[]> = {};
  const note = (name: string, ms: number) => {
    costs[name] ??= [];
    costs[name].push(ms);
  };
  const bytes = units.map((u) => ({ keyframe: u.keyframe, data: Uint8Array.from(u.data) }));
  const visible = document.createElement('canvas');
  document.body.append(visible);
  const context = visible.getContext('2d', { alpha: false, desynchronized: true })!;
  const other = document.createElement('canvas');
  document.body.append(other);
  const otherContext = other.getContext('2d')!;
  const bitmapCanvas = document.createElement('canvas');
  document.body.append(bitmapCanvas);
  const bitmapRenderer = bitmapCanvas.getContext('bitmaprenderer')!;
  const decode: Record<string, number[]> = {};
  for (const acceleration of ['no-preference', 'prefer-software'] as const) {
    let pending: ((frame: VideoFrame) => void) | undefined;
    const decoder = new VideoDecoder({ output: (frame) => pending?.(frame), error: () => {} });
    decoder.configure({ codec: 'avc1.42e028', optimizeForLatency: true, hardwareAcceleration: acceleration });
    let i = 0;
    for (const unit of bytes) {
      const started = performance.now();
      const frame = await new Promise<VideoFrame>((resolve) => {
        pending = resolve;
        decoder.decode(
          new EncodedVideoChunk({
            type: unit.keyframe ? 'key' : 'delta',
            timestamp: i++ * 1000,
            data: unit.data,
          }),
        );
      });
      const key = `page ${acceleration}`;
      decode[key] = [...(decode[key] ?? []), performance.now() - started];
      if (acceleration === 'prefer-software') {
        frame.close();
        continue;
      }
      const { displayWidth: w, displayHeight: h } = frame;
      visible.width = other.width = w;
      visible.height = other.height = h;
      let t = performance.now();
      context.drawImage(frame, 0, 0);
      note('page: drawImage(VideoFrame) {alpha:false, desynchronized}', performance.now() - t);
      t = performance.now();
      context.getImageData(0, 0, 1, 1);
      note('page: getImageData 1×1 after it (flush)', performance.now() - t);
      t = performance.now();
      otherContext.drawImage(frame, 0, 0);
      otherContext.getImageData(0, 0, 1, 1);
      note('page: drawImage(VideoFrame) default context + 1×1 read', performance.now() - t);
      t = performance.now();
      const bitmap = await createImageBitmap(frame);
      note('page: createImageBitmap(VideoFrame)', performance.now() - t);
      bitmap.close();
      frame.close();
      await new Promise(requestAnimationFrame);
    }
    decoder.close();
  }
  // The worker's pictures, drawn on the page in each way.
  const worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' })));
  const result = await new Promise<unknown>((resolve) => {
    let round = 0;
    worker.onmessage = ({ data }) => {
      if (data.done) {
        if (round++ === 0) {
          Object.assign(
            decode,
            Object.fromEntries(Object.entries(data.decode).map(([k, v]) => [`worker ${k}`, v])),
          );
          worker.postMessage({ units: bytes, acceleration: 'prefer-software' });
          return;
        }
        Object.assign(
          decode,
          Object.fromEntries(Object.entries(data.decode).map(([k, v]) => [`worker ${k}`, v])),
        );
        resolve({ page: costs, worker: data.costs, decode });
        return;
      }
      if (round === 0) {
        const { bitmap, rgba, bgra, width, height } = data as {
          bitmap: ImageBitmap;
          rgba: Uint8ClampedArray<ArrayBuffer>;
          bgra: Uint8ClampedArray<ArrayBuffer>;
          width: number;
          height: number;
        };
        let u = performance.now();
        const rgb = new VideoFrame(bgra, {
          format: 'BGRX',
          codedWidth: width,
          codedHeight: height,
          timestamp: 0,
        });
        context.drawImage(rgb, 0, 0);
        context.getImageData(0, 0, 1, 1);
        rgb.close();
        note('page: drawImage(new VideoFrame(BGRX from the worker)) + 1×1 read', performance.now() - u);
        u = performance.now();
        let t = performance.now();
        context.drawImage(bitmap, 0, 0);
        context.getImageData(0, 0, 1, 1);
        note('page: drawImage(ImageBitmap) + 1×1 read', performance.now() - t);
        t = performance.now();
        context.putImageData(new ImageData(rgba, width, height), 0, 0);
        context.getImageData(0, 0, 1, 1);
        note('page: putImageData(RGBA from the worker) + 1×1 read', performance.now() - t);
        t = performance.now();
        bitmapRenderer.transferFromImageBitmap(bitmap);
        note('page: bitmaprenderer.transferFromImageBitmap', performance.now() - t);
      }
      worker.postMessage('next');
    };
    worker.postMessage({ units: bytes, acceleration: 'no-preference' });
  });
  return result;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const server = createServer((_request, response) => {
  response.setHeader('content-type', 'text/html');
  response.end('<!doctype html><body></body>');
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await launchChromium();
try {
  for (const size of SIZES) {
    const units = encodeTestPattern({ ...size, frames: FRAMES, keyframeInterval: FRAMES });
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(server.address() as AddressInfo).port}/`);
    // tsx names functions with an `__name` helper that the page and the worker do not have.
    const workerSource = `const __name = (f) => f; (${workerMain.toString()})()`;
    const plain = units.map((u) => ({ keyframe: u.keyframe, data: [...u.data] }));
    // As source text: the functions run in the page and its worker, not here.
    const result = (await page.evaluate(
      `const __name = (f) => f; (${pageMain.toString()})(${JSON.stringify(plain)}, ${JSON.stringify(workerSource)})`,
    )) as {
      page: Record<string, number[]>;
      worker: Record<string, number[]>;
      decode: Record<string, number[]>;
    };
    console.log(`\n${size.width}×${size.height}, ${FRAMES} pictures, ms p50 / p95 (first picture left out)`);
    for (const group of [result.decode, result.worker, result.page]) {
      for (const [name, values] of Object.entries(group)) {
        const rest = values.slice(1);
        console.log(
          `  ${name.padEnd(78)} ${percentile(rest, 50).toFixed(1)} / ${percentile(rest, 95).toFixed(1)}`,
        );
      }
    }
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
