import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { type Context, Hono } from 'hono';
import {
  AGENT_FILE_NAMES,
  AGENT_PLATFORMS,
  type AgentPlatform,
  encodeStampTrailer,
} from '../../protocol/agent-stamp.ts';
import type { AppEnv } from '../http/app-env.ts';
import { ApiError } from '../http/problem.ts';
import { servedKeyPin } from '../http/tls.ts';
import type { Services } from '../services.ts';
import { AgentExecutables } from './agent-executables.ts';
import { gzipTail } from './gzip-tail.ts';
import { type SessionStamp, StampSigner } from './stamps.ts';

/**
 * Decides whether a download carries a session, from the request (e.g. an authenticated
 * `?session=<id>`). Returns undefined for a generic download; throws an `ApiError` to refuse.
 */
export type StampSessionFunction = (
  c: Context<AppEnv>,
  platform: AgentPlatform,
) => Promise<SessionStamp | undefined> | SessionStamp | undefined;

export interface DownloadRoutesOptions {
  /** Adds a session to the stamp (operator-first flow). Without it, every download is generic. */
  stampSession?: StampSessionFunction;
  /** Where the executables come from; `dist/agent/`, built on first need, by default. */
  executables?: AgentExecutables;
}

/** Bytes read from disk at a time while streaming an executable. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * `GET /download/agent/:platform` (`linux-x64`, `win-x64`): the agent executable, stamped for this
 * control plane (and, through `stampSession`, for one session) without rebuilding.
 *
 * - gzip when the client accepts it: the build compressed the executable once; the stamp is appended
 *   to that stream as a stored block, so the response is one ordinary gzip member.
 * - `Content-Length` on both encodings, `ETag` (build digest + stamp digest, per encoding),
 *   `If-None-Match` → 304, `Content-Disposition: attachment`.
 * - Generic downloads: `Cache-Control: no-cache` (revalidate; the ETag stays stable for a month).
 *   Session downloads: `no-store, private` — the stamp holds a credential.
 *
 * @example
 * app.route('/', downloadRoutes(services));
 * // curl -OJ --compressed http://localhost:8080/download/agent/linux-x64
 */
export function downloadRoutes(services: Services, options: DownloadRoutesOptions = {}) {
  const app = new Hono<AppEnv>();
  const executables = options.executables ?? new AgentExecutables({ logger: services.logger });
  // The certificate is read once: the server speaks TLS with the one it loaded at start.
  let serverKey: Promise<string | undefined> | undefined;
  const signer = new StampSigner(
    services.tokens,
    () => services.keys.current.kid,
    () => (serverKey ??= servedKeyPin(services.config)),
  );

  app.get('/download/agent/:platform', async (c) => {
    const platform = c.req.param('platform');
    if (!AGENT_PLATFORMS.includes(platform as AgentPlatform)) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        `No agent for ${platform}. Choose one of: ${AGENT_PLATFORMS.join(', ')}.`,
      );
    }
    const target = platform as AgentPlatform;
    const session = await options.stampSession?.(c, target);
    const { path, manifest } = await executables.get(target);
    const trailer = encodeStampTrailer(await signer.sign(target, manifest.sha256, session));
    const gzip = acceptsGzip(c.req.header('accept-encoding'));
    const stampDigest = createHash('sha256').update(trailer).digest('base64url').slice(0, 22);
    const etag = `"${manifest.sha256.slice(0, 22)}.${stampDigest}${gzip ? '.gz' : ''}"`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${AGENT_FILE_NAMES[target]}"`,
      'Cache-Control': session ? 'no-store, private' : 'no-cache',
      ETag: etag,
      Vary: 'Accept-Encoding',
    };
    if (!session && matchesEtag(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);

    let body: () => ReadableStream<Uint8Array>;
    if (gzip) {
      const compressed = await executables.gzip(target);
      const tail = gzipTail(compressed, trailer);
      headers['Content-Encoding'] = 'gzip';
      headers['Content-Length'] = String(compressed.size + tail.length);
      body = () => streamFileThen(compressed.path, compressed.size, tail);
    } else {
      headers['Content-Length'] = String(manifest.size + trailer.length);
      body = () => streamFileThen(path, manifest.size, trailer);
    }
    services.logger.info(
      {
        event: 'agent-download',
        platform: target,
        sessionId: session?.sid,
        encoding: gzip ? 'gzip' : 'identity',
        address: c.get('address'),
      },
      'agent download',
    );
    if (session) {
      await services.audit.record({
        actorType: 'anonymous',
        action: 'agent.download',
        sessionId: session.sid,
        address: c.get('address'),
        details: { platform: target },
      });
    }
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(body(), 200, headers);
  });

  return app;
}

/** Whether `Accept-Encoding` allows gzip (explicitly, or through `*`), honouring `q=0`. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  const weights = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    weights.set(name, q === undefined ? 1 : Number(q));
  }
  const gzip = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*');
  return gzip !== undefined && gzip > 0;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/** The first `length` bytes of a file, then `tail`: read lazily, closed if the client goes away. */
function streamFileThen(path: string, length: number, tail: Uint8Array): ReadableStream<Uint8Array> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const file = createReadStream(path, { start: 0, end: length - 1, highWaterMark: READ_CHUNK_BYTES });
    try {
      for await (const chunk of file) yield chunk as Buffer;
    } finally {
      file.destroy();
    }
    yield tail;
  }
  return Readable.toWeb(Readable.from(chunks(), { objectMode: false })) as ReadableStream<Uint8Array>;
}
