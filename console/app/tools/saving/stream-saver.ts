import type { DownloadWorkerMessage } from './download-worker.ts';
import {
  type DownloadSink,
  type FileSaver,
  type SaveSlot,
  type SinkRequest,
  saveInMemory,
} from './file-saver.ts';
import { DOWNLOAD_SCOPE, DOWNLOAD_WORKER_PATH } from './worker-paths.ts';

/** How often the page pings the worker while a download streams, in ms: an idle worker is stopped after 30 s. */
const KEEP_ALIVE_MS = 10_000;
/** How long the hidden frame of a finished download stays, in ms: long enough for the browser to take the end. */
const FRAME_KEPT_MS = 10_000;

/** Whether this browser can hand a ReadableStream to a worker (transferable streams, Chromium 87, Firefox 103). */
function streamsTransfer(): boolean {
  try {
    const stream = new ReadableStream();
    structuredClone(stream, { transfer: [stream as unknown as Transferable] });
    return true;
  } catch {
    return false;
  }
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
    byte.toString(16).padStart(2, '0'),
  ).join('');
}

/**
 * Saves downloads straight to disk through the console's service worker where the browser has one
 * (a secure context: HTTPS or localhost) and can transfer streams; elsewhere, and until the worker
 * is active, keeps them in memory up to MAX_IN_MEMORY_BYTES. The worker is registered at once.
 * @example
 * const tools = new SessionTools(streamToDisk());
 */
export function streamToDisk(fallback: FileSaver = saveInMemory()): FileSaver & { streaming(): boolean } {
  let registration: ServiceWorkerRegistration | undefined;
  /** The worker active now: an update (a new deploy) replaces it, and downloads go to the new one. */
  const active = () => registration?.active ?? null;
  const streams = new Set<DownloadSink>();
  let keepAlive: ReturnType<typeof setInterval> | undefined;

  if (window.isSecureContext && 'serviceWorker' in navigator && streamsTransfer()) {
    navigator.serviceWorker.register(DOWNLOAD_WORKER_PATH, { scope: DOWNLOAD_SCOPE }).then(
      (registered) => {
        registration = registered;
      },
      () => {
        // No worker (blocked by the browser's settings): downloads stay in memory.
      },
    );
  }

  const post = (message: DownloadWorkerMessage) => active()?.postMessage(message);

  const opened = (sink: DownloadSink) => {
    streams.add(sink);
    keepAlive ??= setInterval(() => post({ type: 'ping' }), KEEP_ALIVE_MS);
  };
  const closed = (sink: DownloadSink) => {
    streams.delete(sink);
    if (streams.size > 0) return;
    clearInterval(keepAlive);
    keepAlive = undefined;
  };

  /** Opens the download's URL at once (inside the operator's click); the stream follows with the size. */
  const beginStream = (worker: ServiceWorker, name: string): SaveSlot => {
    const id = randomId();
    // The frame's request is the download: the worker answers it with the stream as an attachment.
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = `${DOWNLOAD_SCOPE}${id}/${encodeURIComponent(name)}`;
    document.body.append(frame);
    let used = false;
    return {
      open: (request) => {
        used = true;
        return openStream(worker, id, name, frame, request);
      },
      cancel() {
        if (used) return;
        used = true;
        worker.postMessage({ type: 'cancel', id } satisfies DownloadWorkerMessage);
        frame.remove();
      },
    };
  };

  const openStream = (
    worker: ServiceWorker,
    id: string,
    name: string,
    frame: HTMLIFrameElement,
    request: SinkRequest,
  ): DownloadSink => {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    worker.postMessage(
      { type: 'stream', id, name, size: request.size, readable } satisfies DownloadWorkerMessage,
      [readable as unknown as Transferable],
    );
    let over = false;
    const finish = (removeAfterMs: number) => {
      over = true;
      closed(sink);
      setTimeout(() => frame.remove(), removeAfterMs);
    };
    const sink: DownloadSink & { backlog: number } = {
      backlog: 0,
      write(data) {
        sink.backlog += data.byteLength;
        writer.write(data).then(
          () => {
            sink.backlog -= data.byteLength;
            request.taken();
          },
          (error: unknown) => {
            if (over) return;
            finish(0);
            request.broken(`The browser stopped saving the file: ${String(error)}`);
          },
        );
      },
      async close() {
        await writer.close();
        finish(FRAME_KEPT_MS);
      },
      abort(reason) {
        if (over) return;
        finish(0);
        void writer.abort(reason).catch(() => {});
      },
    };
    opened(sink);
    return sink;
  };

  return {
    begin(name) {
      const worker = active();
      return worker?.state === 'activated' ? beginStream(worker, name) : fallback.begin(name);
    },
    streaming: () => active()?.state === 'activated',
  };
}

let shared: ReturnType<typeof streamToDisk> | undefined;

/** The page's one saver, so the worker is registered once however many sessions are opened. */
export function pageSaver(): ReturnType<typeof streamToDisk> {
  shared ??= streamToDisk();
  return shared;
}
