import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createRoute } from '@hono/zod-openapi';
import { auditActor, requireAuth, requireScope } from '../auth/authenticate.ts';
import { canSeeOrganisation } from '../auth/scopes.ts';
import type { Principal } from '../http/app-env.ts';
import { authenticated, createApi, idParam, problems, z } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import { getRoute } from '../http/route-shapes.ts';
import type { Services } from '../services.ts';
import { ASCIICAST_MEDIA_TYPE, asciicastLines } from './export-asciicast.ts';
import { exportMp4, Mp4ExportError } from './export-mp4.ts';
import { openRecording } from './recording-reader.ts';
import type { RecordingRow } from './recordings.ts';

const recordingSchema = z
  .object({
    sessionId: z.string(),
    bytes: z.number().openapi({ description: 'Size of the file now, in bytes' }),
    startedAt: z.string().openapi({ description: 'When the end user consented and recording began' }),
    endedAt: z.string().nullable().openapi({ description: 'Null while the session is still recorded' }),
    frames: z.number().openapi({ description: 'Video frames recorded (known once it ended)' }),
    droppedFrames: z
      .number()
      .openapi({ description: 'Video frames left out because the disk fell behind (known once it ended)' }),
    contentUrl: z.string(),
  })
  .openapi('Recording');

const binary = z.string().openapi({ format: 'binary' });
const recordingDescription =
  'A `.llrec` file: a header line `LLREC1 {json}`, then records `[u32 length][f64 ms since start][u8 kind][payload]` (big-endian; kinds 1 video frame as sent on the wire, 2 video-config JSON, 3 chat JSON, 4 event JSON). Every viewing is audited as `recording.view`.';

const routes = {
  get: getRoute({
    path: '/sessions/{id}/recording',
    tag: 'recordings',
    summary: "A session's recording: its size, times and frame counts",
    item: recordingSchema,
    description: 'The recording',
  }),
  content: createRoute({
    method: 'get',
    path: '/sessions/{id}/recording/content',
    tags: ['recordings'],
    summary: "Download a session's recording file",
    description: recordingDescription,
    security: authenticated,
    request: {
      params: idParam,
      headers: z.object({ range: z.string().max(100).optional().openapi({ example: 'bytes=0-1023' }) }),
    },
    responses: {
      200: { description: 'The recording', content: { 'application/octet-stream': { schema: binary } } },
      206: {
        description: 'The requested bytes of the recording',
        content: { 'application/octet-stream': { schema: binary } },
      },
      ...problems(401, 403, 404, 416),
    },
  }),
  export: createRoute({
    method: 'get',
    path: '/sessions/{id}/recording/export',
    tags: ['recordings'],
    summary: "Export a session's recording in a format other players read",
    description:
      '`format=mp4`: the video as MP4 (H.264 remuxed by ffmpeg with `-c copy`, never re-encoded). ' +
      "`format=asciicast`: one shell's output as an asciicast v2 file (asciinema), the shell on `channel` " +
      'or else the first one opened. The same access as playing the recording; audited as `recording.export`.',
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({
        format: z.enum(['mp4', 'asciicast']),
        channel: z.coerce
          .number()
          .int()
          .min(0)
          .max(2 ** 32 - 1)
          .optional()
          .openapi({
            description: "asciicast: the shell's channel (the `shell.open` event's `details.channel`)",
          }),
      }),
    },
    responses: {
      200: {
        description: 'The exported file',
        content: {
          'video/mp4': { schema: binary },
          [ASCIICAST_MEDIA_TYPE]: { schema: z.string() },
        },
      },
      ...problems(400, 401, 403, 404, 503),
    },
  }),
};

/** A `Range: bytes=a-b` header as inclusive offsets within `size` bytes; undefined when unusable. */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || end < start) return undefined;
  return { start, end };
}

/**
 * Session recordings: metadata and the file. Read with `sessions:read` and the session's
 * organisation visibility (auditors and technicians may watch); every viewing is audited.
 */
export function recordingRoutes(services: Services) {
  const app = createApi();
  const authenticate = requireAuth(services);
  app.use('/sessions/*', (c, next) => (c.get('principal') ? next() : authenticate(c, next)));

  /** The recording of a session the principal may see, or 404. */
  const visibleRecording = async (principal: Principal, id: string): Promise<RecordingRow> => {
    const session = await services.store.get(id);
    if (!session || !canSeeOrganisation(principal, session.organisationId)) {
      throw new ApiError(404, 'SESSION_NOT_FOUND', 'No such session.');
    }
    const recording = await services.recordings.get(id);
    if (!recording) throw new ApiError(404, 'NOT_FOUND', 'This session has no recording.');
    return recording;
  };

  /** The file's size now, or 404 when the file is gone (deleted by hand or by retention). */
  const sizeOf = async (recording: RecordingRow): Promise<number> => {
    try {
      return (await stat(services.recordings.path(recording.fileName))).size;
    } catch {
      throw new ApiError(404, 'NOT_FOUND', "This session's recording file is missing.");
    }
  };

  app.openapi({ ...routes.get, middleware: [requireScope('sessions:read')] }, async (c) => {
    const recording = await visibleRecording(c.get('principal'), c.req.valid('param').id);
    return c.json(
      {
        sessionId: recording.sessionId,
        bytes: await sizeOf(recording),
        startedAt: recording.startedAt.toISOString(),
        endedAt: recording.endedAt?.toISOString() ?? null,
        frames: recording.frames,
        droppedFrames: recording.droppedFrames,
        contentUrl: `/api/sessions/${encodeURIComponent(recording.sessionId)}/recording/content`,
      },
      200,
    );
  });

  app.openapi({ ...routes.content, middleware: [requireScope('sessions:read')] }, async (c) => {
    const principal = c.get('principal');
    const recording = await visibleRecording(principal, c.req.valid('param').id);
    const size = await sizeOf(recording);
    const rangeHeader = c.req.valid('header').range;
    const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, size);
    if (rangeHeader !== undefined && !range) {
      throw new ApiError(416, 'VALIDATION_FAILED', `The range is outside the recording (${size} bytes).`, {
        headers: { 'Content-Range': `bytes */${size}` },
      });
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(size === 0 ? 0 : end - start + 1),
      'Content-Disposition': `attachment; filename="${recording.fileName}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'no-store',
    };
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    const status = range ? 206 : 200;
    if (c.req.method === 'HEAD') return new Response(null, { status, headers });
    // A HEAD shows nothing; every GET is a viewing.
    await services.audit.record({
      ...auditActor(principal),
      action: 'recording.view',
      sessionId: recording.sessionId,
      address: c.get('address'),
      details: range ? { start, end } : {},
    });
    if (size === 0) return new Response(null, { status, headers });
    const stream = createReadStream(services.recordings.path(recording.fileName), { start, end });
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status, headers });
  });

  app.openapi({ ...routes.export, middleware: [requireScope('sessions:read')] }, async (c) => {
    const principal = c.get('principal');
    const recording = await visibleRecording(principal, c.req.valid('param').id);
    const { format, channel } = c.req.valid('query');
    const path = services.recordings.path(recording.fileName);
    await sizeOf(recording);
    const audit = () =>
      services.audit.record({
        ...auditActor(principal),
        action: 'recording.export',
        sessionId: recording.sessionId,
        address: c.get('address'),
        details: channel === undefined ? { format } : { format, channel },
      });
    const name = recording.fileName.replace(/\.llrec$/, '');
    const { header, records, close } = await openRecording(path).catch((error: unknown) => {
      throw new ApiError(404, 'NOT_FOUND', "This session's recording file is unreadable.", { cause: error });
    });

    if (format === 'asciicast') {
      const lines = asciicastLines(header, records, channel)[Symbol.asyncIterator]();
      const first = await lines.next();
      if (first.done) {
        await close();
        throw new ApiError(
          404,
          'NOT_FOUND',
          channel === undefined
            ? 'This recording has no shell.'
            : `This recording has no shell on channel ${channel}.`,
        );
      }
      await audit();
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode(first.value));
        },
        async pull(controller) {
          const next = await lines.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        },
        async cancel() {
          await lines.return?.(undefined);
        },
      });
      // The typed responses take one JSON document; this is a file of JSON lines.
      return new Response(body, {
        status: 200,
        headers: {
          'Content-Type': `${ASCIICAST_MEDIA_TYPE}; charset=utf-8`,
          'Content-Disposition': `attachment; filename="${name}${channel === undefined ? '' : `-${channel}`}.cast"`,
          'Cache-Control': 'no-store',
        },
      }) as never;
    }

    // MP4 needs a seekable output (its index goes first, for players that stream it): a file deleted
    // once sent.
    const dir = await mkdtemp(join(tmpdir(), 'lifeline-export-'));
    const output = join(dir, `${name}.mp4`);
    try {
      await exportMp4(records, output);
    } catch (error) {
      await close();
      await rm(dir, { recursive: true, force: true });
      if (error instanceof Mp4ExportError) {
        if (error.kind === 'no-video') throw new ApiError(404, 'NOT_FOUND', error.message);
        if (error.kind === 'no-ffmpeg')
          throw new ApiError(503, 'NOT_SUPPORTED', error.message, { cause: error });
      }
      throw error;
    }
    await close();
    await audit();
    const stream = createReadStream(output);
    stream.once('close', () => void rm(dir, { recursive: true, force: true }));
    return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        'Content-Type': 'video/mp4',
        'Content-Length': String((await stat(output)).size),
        'Content-Disposition': `attachment; filename="${name}.mp4"`,
        'Cache-Control': 'no-store',
      },
    }) as never;
  });

  return app;
}
