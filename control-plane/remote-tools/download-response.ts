import type { MessageOf } from '../../protocol/index.ts';
import { ApiError } from '../http/problem.ts';
import type { ApiParticipant } from './api-participant.ts';
import { isChannelFailure } from './channel-failure.ts';
import { type Download, RangeNotSatisfiable, startDownload } from './file-download.ts';
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

/** The validators a download request may carry. */
export interface DownloadConditions {
  /** `Range: bytes=N-`. */
  range?: string | undefined;
  /** `If-Range`: send the range only if the file is still this version (an ETag), else the whole file. */
  ifRange?: string | undefined;
  /** `If-Match`: answer only if the file is one of these versions (or `*`), else 412 FILE_CHANGED. */
  ifMatch?: string | undefined;
}

/**
 * The strong ETag of a file as the agent announced it: its version (equal versions, equal bytes),
 * or from an agent too old to send one, its size and modification time in microseconds.
 */
export function entityTag(info: MessageOf<'file-info'>): string {
  const opaque =
    info.version ?? `${info.size.toString(16)}-${Math.round(info.modifiedAt * 1000).toString(16)}`;
  return `"${opaque}"`;
}

/** Whether `If-Match` (a list of entity tags, or `*`) holds for `etag`, by strong comparison (RFC 9110 13.1.1). */
function ifMatchHolds(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  // A weak tag (W/"…") never equals a strong one.
  return header.split(',').some((tag) => tag.trim() === '*' || tag.trim() === etag);
}

/** Paths remembered per API client and session, oldest dropped first. */
const SERVED_PATHS = 256;
/**
 * The version of each path last sent to each API client: its participant in one session, which lasts
 * while the client makes calls (it leaves a minute after the last; then only If-Range protects).
 */
const served = new WeakMap<ApiParticipant, Map<string, string>>();

function lastServed(participant: ApiParticipant, path: string): string | undefined {
  return served.get(participant)?.get(path);
}

function remember(participant: ApiParticipant, path: string, etag: string): void {
  const paths = served.get(participant) ?? new Map<string, string>();
  served.set(participant, paths);
  paths.delete(path);
  paths.set(path, etag);
  if (paths.size > SERVED_PATHS) paths.delete(paths.keys().next().value as string);
}

/**
 * Whether the bytes from a resumed offset belong to the same file as the client's first part.
 * With `If-Range` that is an exact, strong ETag match (a date or a weak tag never matches). Without
 * it (curl -C - sends none) the server compares with the version it last sent this client for this
 * path: a file that changed since is sent whole (200), which a client that asked for a range must
 * take as a new file — curl refuses to resume rather than append the wrong bytes.
 */
function resumable(
  participant: ApiParticipant,
  path: string,
  ifRange: string | undefined,
  etag: string,
): boolean {
  if (ifRange !== undefined) return ifRange.trim() === etag;
  const before = lastServed(participant, path);
  return before === undefined || before === etag;
}

/**
 * The HTTP response of a download: 200 with the whole file, or 206 from the requested byte on; for
 * `head`, only its headers (the transfer is cancelled at once). Every response carries the file's
 * ETag. A resume (`Range`) is honoured only for the same version of the file (see `resumable`); a
 * file that changed is sent whole, or refused with 412 FILE_CHANGED under `If-Match`; a file that
 * changes while it is sent cuts the connection (the agent fails the transfer with FILE_CHANGED).
 * `lease` is released when the transfer ends, however it ends.
 */
export async function downloadResponse(
  lease: Lease,
  path: string,
  conditions: DownloadConditions,
  idleMs: number,
  signal: AbortSignal,
  abortResponse: (() => void) | undefined,
  head = false,
): Promise<Response> {
  const { participant } = lease;
  // A restart from 0 is a second transfer under the same lease: it is released once no transfer
  // runs and no further one will start.
  let running = 0;
  let deciding = true;
  const settle = () => {
    if (running === 0 && !deciding) lease.release();
  };
  const transfer = (from: number) => {
    running++;
    return startDownload(
      participant,
      path,
      from,
      idleMs,
      signal,
      () => {
        running--;
        settle();
      },
      abortResponse,
    );
  };
  const preconditionFailed = (etag: string) =>
    new ApiError(412, 'FILE_CHANGED', 'The file is no longer the version If-Match names.', {
      headers: { ETag: etag },
    });

  let offset = rangeStart(conditions.range);
  let download: Download;
  try {
    try {
      download = await transfer(offset);
    } catch (error) {
      // Past the end: the agent refuses an offset beyond the file and sends none at its very end.
      const pastEnd =
        error instanceof RangeNotSatisfiable ||
        (isChannelFailure(error) && error.code === 'VALIDATION_FAILED');
      if (offset === 0 || !pastEnd) throw error;
      // Whether that is a client error or a file that shrank depends on the version: ask for it.
      download = await transfer(0);
      const etag = entityTag(download.info);
      if (!ifMatchHolds(conditions.ifMatch, etag)) {
        await download.body.cancel();
        throw preconditionFailed(etag);
      }
      if (resumable(participant, path, conditions.ifRange, etag)) {
        await download.body.cancel();
        throw new ApiError(
          416,
          'VALIDATION_FAILED',
          `The range starts past the end of the file (${download.info.size} bytes).`,
          { headers: { 'Content-Range': `bytes */${download.info.size}`, ETag: etag } },
        );
      }
      offset = 0;
    }
    const etag = entityTag(download.info);
    if (!ifMatchHolds(conditions.ifMatch, etag)) {
      await download.body.cancel();
      throw preconditionFailed(etag);
    }
    if (offset > 0 && !resumable(participant, path, conditions.ifRange, etag)) {
      await download.body.cancel();
      offset = 0;
      download = await transfer(0);
    }
  } finally {
    deciding = false;
    settle();
  }
  const { info, body } = download;
  const etag = entityTag(info);
  remember(participant, path, etag);
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(info.size - offset),
    'Content-Disposition': contentDisposition(info.path || path),
    'Accept-Ranges': 'bytes',
    ETag: etag,
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
