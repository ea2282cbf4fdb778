import { DOWNLOAD_SCOPE } from './worker-paths.ts';

/**
 * The console's download service worker (bundled on its own, served at DOWNLOAD_WORKER_PATH). The
 * page hands it a ReadableStream of a download's verified-as-they-go bytes and then opens
 * `<scope><id>/<name>` in a hidden frame; the worker answers that request with the stream as an
 * attachment, so the browser writes the file to disk as it arrives and the page never holds it whole
 * (the StreamSaver approach, with transferable streams).
 */

/** How long a handed-over stream waits for its request before it is dropped, in ms. */
const UNCLAIMED_MS = 60_000;

/** What the page posts: a download to answer, or a ping that keeps the worker alive while one streams. */
export type DownloadWorkerMessage =
  | { type: 'stream'; id: string; name: string; size: number; readable: ReadableStream<Uint8Array> }
  | { type: 'ping' };

// The DOM lib has no service worker types (they are in the WebWorker lib, which clashes with DOM).
interface FetchEventLike extends Event {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: Event) => void): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void;
  skipWaiting(): Promise<void>;
}

const worker = globalThis as unknown as WorkerScope;
const waiting = new Map<string, { name: string; size: number; readable: ReadableStream<Uint8Array> }>();

/** `attachment` with the name for every browser: ASCII in `filename`, the exact name in `filename*`. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function isStream(data: unknown): data is Extract<DownloadWorkerMessage, { type: 'stream' }> {
  const message = data as Partial<Extract<DownloadWorkerMessage, { type: 'stream' }>> | null;
  return (
    message?.type === 'stream' &&
    typeof message.id === 'string' &&
    /^[0-9a-f]{32}$/.test(message.id) &&
    typeof message.name === 'string' &&
    Number.isSafeInteger(message.size) &&
    message.readable instanceof ReadableStream
  );
}

worker.addEventListener('install', () => void worker.skipWaiting());

worker.addEventListener('message', (event) => {
  if (!isStream(event.data)) return;
  const { id, name, size, readable } = event.data;
  waiting.set(id, { name, size, readable });
  setTimeout(() => {
    if (waiting.get(id)?.readable !== readable) return;
    waiting.delete(id);
    void readable.cancel('Nobody asked for the download.').catch(() => {});
  }, UNCLAIMED_MS);
  event.ports[0]?.postMessage('ready');
});

worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin || !url.pathname.startsWith(DOWNLOAD_SCOPE)) return;
  const id = url.pathname.slice(DOWNLOAD_SCOPE.length).split('/')[0] ?? '';
  const download = waiting.get(id);
  if (!download) {
    event.respondWith(new Response('This download is over or never started.', { status: 404 }));
    return;
  }
  waiting.delete(id);
  event.respondWith(
    new Response(download.readable, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': contentDisposition(download.name),
        'Content-Length': String(download.size),
        'X-Content-Type-Options': 'nosniff',
      },
    }),
  );
});
