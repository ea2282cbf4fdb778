import { ApiError } from '../http/problem.ts';
import { RangeNotSatisfiable, startDownload } from './file-download.ts';
import type { Lease } from './participants.ts';

/** The first byte a `Range: bytes=N-` header asks for; other forms are ignored (the whole file is sent). */
export function rangeStart(header: string | undefined): number {
  const match = header ? /^bytes=(\d{1,16})-$/.exec(header.trim()) : null;
  const start = match ? Number(match[1]) : 0;
  return Number.isSafeInteger(start) ? start : 0;
}

/** `attachment` with the file's own name: plain for old clients, RFC 8187 UTF-8 for the rest. */
export function contentDisposition(path: string): string {
  const name = path.split('/').filter(Boolean).at(-1) ?? 'download';
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The HTTP response of a download: 200 with the whole file, or 206 from the requested byte on; for
 * `head`, only its headers (the transfer is cancelled at once). `lease` is released when the
 * transfer ends, however it ends.
 */
export async function downloadResponse(
  lease: Lease,
  path: string,
  range: string | undefined,
  idleMs: number,
  signal: AbortSignal,
  abortResponse: (() => void) | undefined,
  head = false,
): Promise<Response> {
  const offset = rangeStart(range);
  let download: Awaited<ReturnType<typeof startDownload>>;
  try {
    download = await startDownload(
      lease.participant,
      path,
      offset,
      idleMs,
      signal,
      lease.release,
      abortResponse,
    );
  } catch (error) {
    lease.release();
    if (error instanceof RangeNotSatisfiable) {
      throw new ApiError(
        416,
        'VALIDATION_FAILED',
        `The range starts past the end of the file (${error.size} bytes).`,
        {
          headers: { 'Content-Range': `bytes */${error.size}` },
        },
      );
    }
    throw error;
  }
  const { info, body } = download;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(info.size - offset),
    'Content-Disposition': contentDisposition(info.path || path),
    'Accept-Ranges': 'bytes',
    'Last-Modified': new Date(info.modifiedAt).toUTCString(),
    'Cache-Control': 'no-store',
  };
  if (offset > 0) headers['Content-Range'] = `bytes ${offset}-${info.size - 1}/${info.size}`;
  const status = offset > 0 ? 206 : 200;
  if (head) {
    // Hono answers HEAD with the GET route minus its body, which nobody would read or cancel.
    await body.cancel();
    return new Response(null, { status, headers });
  }
  return new Response(body, { status, headers });
}
