import { createRoute } from '@hono/zod-openapi';
import {
  DEFAULT_EXEC_OUTPUT_BYTES,
  DEFAULT_EXEC_TIMEOUT_MS,
  MAX_CHAT_CHARS,
  MAX_COMMAND_CHARS,
  MAX_EXEC_OUTPUT_BYTES,
  MAX_EXEC_TIMEOUT_MS,
} from '../../protocol/index.ts';
import {
  authenticated,
  idempotencyHeader,
  idParam,
  json,
  jsonBody,
  problemSchema,
  problems,
  z,
} from '../http/openapi.ts';

/** Longest path accepted, in characters (the protocol's bound). */
const MAX_PATH_CHARS = 4096;

/** A problem response with a description of its own, for statuses the shared table does not name. */
function problem(description: string) {
  return { description, content: { 'application/problem+json': { schema: problemSchema } } };
}

const channelProblems = {
  ...problems(400, 401, 403, 404),
  403: problem(
    'The role or token scope does not allow this (FORBIDDEN), the end user did not allow the capability when asked (CAPABILITY_NOT_ALLOWED: the call asks them and waits up to a minute for their answer first), or the path leaves the shared folder (PATH_OUTSIDE_FOLDER)',
  ),
  409: problem(
    'The agent is not connected to this node (AGENT_OFFLINE), does not offer this (NOT_SUPPORTED), the end user has not answered the consent prompt yet (CONFLICT), or the file is in the way (FILE_EXISTS, NOT_A_FILE, NOT_A_FOLDER)',
  ),
  410: problem('The session has ended (SESSION_ENDED)'),
  502: problem('The agent failed (IO_ERROR and other codes it reports)'),
  504: problem('The agent did not answer in time (TIMEOUT)'),
};

export const capabilitySchema = z.enum(['chat', 'files', 'shell']);

const permissionsSchema = z.object({
  view: z.boolean(),
  control: z.boolean(),
  chat: z.boolean(),
  files: z.boolean(),
  shell: z.boolean(),
  clipboard: z.boolean(),
});

const connectionSchema = z
  .object({
    slot: z
      .number()
      .int()
      .openapi({ description: "The API participant's slot (its channels' high 16 bits)" }),
    consent: z.enum(['pending', 'accepted']),
    permissions: permissionsSchema
      .nullable()
      .openapi({ description: 'What the end user allows, once they answered' }),
  })
  .openapi('ApiConnection');

const execResultSchema = z
  .object({
    exitCode: z.number().int().nullable(),
    signal: z.string().nullable(),
    timedOut: z.boolean(),
    truncated: z
      .boolean()
      .openapi({ description: 'The output passed maxOutputBytes and the command was stopped' }),
    durationMs: z.number(),
    stdout: z.string().openapi({
      description: 'Standard output as UTF-8 text (bytes that are not UTF-8 become U+FFFD)',
    }),
    stderr: z.string().openapi({
      description: 'Standard error as UTF-8 text (bytes that are not UTF-8 become U+FFFD)',
    }),
    stdoutBase64: z.string().optional().openapi({
      description: 'Standard output byte for byte, base64; present when outputEncoding is base64',
    }),
    stderrBase64: z.string().optional().openapi({
      description: 'Standard error byte for byte, base64; present when outputEncoding is base64',
    }),
  })
  .openapi('ExecResult');

const listingSchema = z
  .object({
    path: z.string(),
    root: z
      .string()
      .openapi({ description: "The shared folder's absolute path on the device (display only)" }),
    offset: z.number().int(),
    total: z.number().int(),
    entries: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['file', 'directory', 'link', 'other']),
        size: z.number().int(),
        modifiedAt: z.number().openapi({ description: 'Milliseconds since the Unix epoch' }),
      }),
    ),
    nextOffset: z.number().int().nullable().openapi({ description: 'offset of the next page, or null' }),
  })
  .openapi('FileListing');

const storedSchema = z
  .object({
    path: z.string(),
    size: z.number().int(),
    sha256: z.string().openapi({ description: 'SHA-256 of the whole file, hex' }),
  })
  .openapi('StoredFile');

const chatSchema = z
  .object({
    id: z.string(),
    text: z.string(),
    from: z.object({ kind: z.enum(['operator', 'user']), id: z.string().optional(), name: z.string() }),
    sentAt: z
      .number()
      .openapi({ description: 'When the relay received it, in milliseconds since the Unix epoch' }),
  })
  .openapi('ChatMessage');

const binary = z.string().openapi({ format: 'binary' });
const pathQuery = z.string().max(MAX_PATH_CHARS).openapi({
  description: "A path inside the folder the agent shares, relative to it, with '/' separators",
});

export const channelRouteSpecs = {
  connect: createRoute({
    method: 'post',
    path: '/sessions/{id}/connect',
    tags: ['commands and files'],
    summary:
      'Attach the API to a live session, asking the end user for these capabilities if they have not answered yet',
    description:
      "On a session the end user already accepted, they are asked for the capabilities listed that they have not allowed (at most once per 10 s); the answer shows in the session's permissions.",
    security: authenticated,
    request: {
      params: idParam,
      body: jsonBody(z.object({ capabilities: z.array(capabilitySchema).min(1).max(3) })),
    },
    responses: {
      200: json(connectionSchema, 'Attached; wait for consent with /wait?until=active'),
      ...channelProblems,
    },
  }),
  exec: createRoute({
    method: 'post',
    path: '/sessions/{id}/exec',
    tags: ['commands and files'],
    summary:
      "Run a command with the device's shell (sh -c, cmd /c) in the shared folder and return its output",
    description:
      'Send an Idempotency-Key to retry safely: a retry with the same key gets the first result and does not run the command again.',
    security: authenticated,
    request: {
      params: idParam,
      headers: idempotencyHeader,
      body: jsonBody(
        z.object({
          command: z.string().min(1).max(MAX_COMMAND_CHARS),
          cwd: pathQuery.optional().openapi({ description: 'Working folder inside the shared folder' }),
          timeoutSeconds: z
            .number()
            .int()
            .min(1)
            .max(MAX_EXEC_TIMEOUT_MS / 1000)
            .default(DEFAULT_EXEC_TIMEOUT_MS / 1000),
          maxOutputBytes: z
            .number()
            .int()
            .min(1)
            .max(MAX_EXEC_OUTPUT_BYTES)
            .default(DEFAULT_EXEC_OUTPUT_BYTES)
            .openapi({
              description:
                'Stop the command once it wrote this many bytes (stdout and stderr together). The server caps it (LIFELINE_EXEC_MAX_OUTPUT_BYTES, 8 MiB by default); past the cap the result says truncated',
            }),
          outputEncoding: z.enum(['utf8', 'base64']).default('utf8').openapi({
            description:
              'base64 adds stdoutBase64 and stderrBase64, the output byte for byte (binary output does not survive as text)',
          }),
        }),
      ),
    },
    responses: {
      200: json(execResultSchema, 'The command ran; its exit code says how it went'),
      ...channelProblems,
      429: problem(
        'The session already runs as many API commands as allowed at once, or the server holds as much command output as it may (TOO_FREQUENT); retry after Retry-After seconds',
      ),
      422: problem('The Idempotency-Key was used with another request (IDEMPOTENCY_MISMATCH)'),
    },
  }),
  list: createRoute({
    method: 'get',
    path: '/sessions/{id}/files',
    tags: ['commands and files'],
    summary: 'List a folder on the device, folders first (pages of at most 300 entries)',
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({ path: pathQuery.default(''), offset: z.coerce.number().int().min(0).default(0) }),
    },
    responses: { 200: json(listingSchema, 'One page of the folder'), ...channelProblems },
  }),
  download: createRoute({
    method: 'get',
    path: '/sessions/{id}/files/content',
    tags: ['commands and files'],
    summary: 'Download a file; `Range: bytes=N-` resumes from byte N (206)',
    description:
      "Streams the file as the agent reads it. A whole-file download is checked against the agent's SHA-256 before its last bytes are sent; on a mismatch the connection is cut, so the client fails instead of keeping a corrupt file. Every response carries a strong `ETag` (the file's version on the device). Resume with `Range` and `If-Range: <etag>`: if the file changed, the whole new file comes back (200). Without `If-Range`, a file that changed since this client last downloaded it also comes back whole. `If-Match: <etag>` refuses a changed file with 412 FILE_CHANGED. A file written to while it is sent cuts the connection. A download that makes no progress (the client reads nothing, or the agent sends nothing) for the transfer idle timeout (60 s by default) is cut too.",
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({ path: pathQuery.min(1) }),
      headers: z.object({
        range: z.string().max(100).optional().openapi({ example: 'bytes=1048576-' }),
        'if-range': z.string().max(200).optional().openapi({ example: '"5d41402abc4b2a76b9719d911017c592"' }),
        'if-match': z
          .string()
          .max(2000)
          .optional()
          .openapi({ example: '"5d41402abc4b2a76b9719d911017c592"' }),
      }),
    },
    responses: {
      200: { description: 'The file', content: { 'application/octet-stream': { schema: binary } } },
      206: {
        description: 'The file from the requested byte on',
        content: { 'application/octet-stream': { schema: binary } },
      },
      ...channelProblems,
      412: problem('The file is not the version If-Match names (FILE_CHANGED)'),
      416: problem('The range starts at or past the end of the file (VALIDATION_FAILED)'),
    },
  }),
  upload: createRoute({
    method: 'put',
    path: '/sessions/{id}/files/content',
    tags: ['commands and files'],
    summary:
      'Upload a file (the request body, with a Content-Length); an interrupted upload resumes where the agent stopped',
    security: authenticated,
    request: {
      params: idParam,
      query: z.object({
        path: pathQuery.min(1),
        overwrite: z.enum(['true', 'false']).default('false'),
      }),
      body: { content: { 'application/octet-stream': { schema: binary } }, required: true },
    },
    responses: {
      201: json(storedSchema, 'Stored under its name, checksum verified by the agent'),
      ...channelProblems,
      408: problem(
        'The body stalled: no bytes for the transfer idle timeout (LIFELINE_TRANSFER_IDLE_SECONDS, 60 s by default) (TIMEOUT); retry to resume',
      ),
      411: problem('The request has no Content-Length (VALIDATION_FAILED)'),
      422: problem('The bytes the agent stored do not match the body (CHECKSUM_MISMATCH); send it again'),
    },
  }),
  fileOp: createRoute({
    method: 'post',
    path: '/sessions/{id}/files/ops',
    tags: ['commands and files'],
    summary: 'Make a folder, delete a file or an empty folder, rename (move), or copy a file or a folder',
    security: authenticated,
    request: {
      params: idParam,
      body: jsonBody(
        z.object({
          op: z.enum(['mkdir', 'delete', 'rename', 'copy']),
          path: pathQuery.min(1),
          to: pathQuery.min(1).optional().openapi({ description: 'The new path, for rename and copy' }),
        }),
      ),
    },
    responses: {
      200: json(
        z.object({ op: z.string(), path: z.string(), to: z.string().optional() }).openapi('FileOpDone'),
        'Done',
      ),
      ...channelProblems,
    },
  }),
  sendChat: createRoute({
    method: 'post',
    path: '/sessions/{id}/chat',
    tags: ['commands and files'],
    summary: 'Send a chat message to the end user (and every operator of the session)',
    security: authenticated,
    request: { params: idParam, body: jsonBody(z.object({ text: z.string().min(1).max(MAX_CHAT_CHARS) })) },
    responses: { 201: json(chatSchema, 'Delivered, as the relay stamped it'), ...channelProblems },
  }),
  readChat: createRoute({
    method: 'get',
    path: '/sessions/{id}/chat',
    tags: ['commands and files'],
    summary: "The chat of a live session, oldest first (the relay's recent history)",
    security: authenticated,
    request: { params: idParam },
    responses: { 200: json(z.object({ items: z.array(chatSchema) }), 'The messages'), ...channelProblems },
  }),
};
