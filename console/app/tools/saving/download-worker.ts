import { DOWNLOAD_SCOPE } from './worker-paths.ts';

/**
 * The console's download service worker (bundled on its own, served at DOWNLOAD_WORKER_PATH). The
 * page hands it a ReadableStream of a download's verified-as-they-go bytes and then opens
 * `<scope><id>/<name>` in a hidden frame; the worker answers that request with the stream as an
 * attachment, so the browser writes the file to disk as it arrives and the page never holds it whole
 * (the StreamSaver approach, with transferable streams).
 */

/** How long a download request and its stream wait for each other, in ms. */
const UNMATCHED_MS = 60_000;

/**
 * What the page posts: the stream of a download (once the device said its size), a download called
 * off before its stream, or a ping that keeps the worker alive while one streams.
 */
export type DownloadWorkerMessage =
  | { type: 'stream'; id: string; name: string; size: number | null; readable: ReadableStream<Uint8Array> }
  | { type: 'cancel'; id: string }
  | { type: 'ping' };

type StreamMessage = Extract<DownloadWorkerMessage, { type: 'stream' }>;

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
/**
 * The page opens the download's URL inside the operator's click and posts the stream once the
 * device said the file's size, so either may come first: each waits here for the other.
 */
const streams = new Map<string, StreamMessage | null>();
const requests = new Map<string, (stream: StreamMessage | null) => void>();

/** `attachment` with the name for every browser: ASCII in `filename`, the exact name in `filename*`. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

const isId = (id: unknown): id is string => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id);

function isStream(data: unknown): data is StreamMessage {
  const message = data as Partial<StreamMessage> | null;
  return (
    message?.type === 'stream' &&
    isId(message.id) &&
    typeof message.name === 'string' &&
    (message.size === null || Number.isSafeInteger(message.size)) &&
    message.readable instanceof ReadableStream
  );
}

/** Hands `stream` (null: called off) to the request waiting for it, or keeps it for the request. */
function arrive(id: string, stream: StreamMessage | null): void {
  const request = requests.get(id);
  if (request) {
    requests.delete(id);
    request(stream);
    return;
  }
  streams.set(id, stream);
  setTimeout(() => {
    if (!streams.has(id) || streams.get(id) !== stream) return;
    streams.delete(id);
    void stream?.readable.cancel('Nobody asked for the download.').catch(() => {});
  }, UNMATCHED_MS);
}

/** The stream of download `id`, once the page posts it; null when called off or never posted. */
function streamOf(id: string): Promise<StreamMessage | null> {
  if (streams.has(id)) {
    const stream = streams.get(id) ?? null;
    streams.delete(id);
    return Promise.resolve(stream);
  }
  return new Promise((resolve) => {
    requests.set(id, resolve);
    setTimeout(() => {
      if (requests.get(id) !== resolve) return;
      requests.delete(id);
      resolve(null);
    }, UNMATCHED_MS);
  });
}

worker.addEventListener('install', () => void worker.skipWaiting());

worker.addEventListener('message', (event) => {
  const data = event.data as Partial<DownloadWorkerMessage> | null;
  if (isStream(data)) arrive(data.id, data);
  else if (data?.type === 'cancel' && isId(data.id)) arrive(data.id, null);
});

async function answer(id: string): Promise<Response> {
  const stream = await streamOf(id);
  if (!stream) return new Response('This download is over or never started.', { status: 404 });
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': contentDisposition(stream.name),
    'X-Content-Type-Options': 'nosniff',
  };
  // A zip's size is known only at its end: the browser then shows no percentage.
  if (stream.size !== null) headers['Content-Length'] = String(stream.size);
  return new Response(stream.readable, { headers });
}

worker.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== location.origin || !url.pathname.startsWith(DOWNLOAD_SCOPE)) return;
  event.respondWith(answer(url.pathname.slice(DOWNLOAD_SCOPE.length).split('/')[0] ?? ''));
});
