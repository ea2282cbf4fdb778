import type { ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { Capability } from '../../protocol/index.ts';
import { requireAuth, requireScope } from '../auth/authenticate.ts';
import type { AppEnv } from '../http/app-env.ts';
import { idempotent, notAResult } from '../http/idempotency.ts';
import { createApi } from '../http/openapi.ts';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { ChannelFailure, channelApiError, isChannelFailure } from './channel-failure.ts';
import { channelRequest } from './channel-request.ts';
import { downloadResponse } from './download-response.ts';
import { execResult, runCommand } from './exec-call.ts';
import { ExecLimits } from './exec-limits.ts';
import { BodyStalled, uploadFile } from './file-upload.ts';
import { type Lease, participantsOf } from './participants.ts';
import { channelRouteSpecs as routes } from './route-specs.ts';
import { FEATURES_FOR, requireFeature, usableSession } from './session-access.ts';

const UPLOAD_PATH = /^\/api\/sessions\/[^/]+\/files\/content$/;

/** Whether a request is a file upload: its body streams to the agent as it arrives, unbounded by the JSON limit. */
export function isFileUpload(c: Context): boolean {
  return c.req.method === 'PUT' && UPLOAD_PATH.test(c.req.path);
}

/** Runs `work`, turning a channel's failure into its problem response. */
async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isChannelFailure(error) ? channelApiError(error) : error;
  }
}

/**
 * Commands, files and chat for scripts: the HTTP API's participant in a live session runs them over
 * the relay's channels, as a console operator would, under the caller's name and audit identity.
 */
export function channelRoutes(services: Services) {
  const app = createApi();
  const participants = participantsOf(services);
  const execLimits = new ExecLimits({
    maxOutputBytes: services.config.execMaxOutputBytes,
    budgetBytes: services.config.execOutputBudgetBytes,
    perSession: services.config.execPerSession,
  });
  const authenticate = requireAuth(services);
  // The session routes, mounted on the same prefix, may have authenticated the request already.
  app.use('/sessions/*', (c, next) => (c.get('principal') ? next() : authenticate(c, next)));

  /**
   * The caller's participant in the session, once the end user allows `capability`: attached on
   * demand (asking the user if they have not answered), waiting a bounded time for their answer.
   */
  const participantFor = async (
    c: Context<AppEnv>,
    id: string,
    capability: Capability,
    feature: keyof typeof FEATURES_FOR,
    what: string,
  ): Promise<Lease> => {
    const principal = c.get('principal');
    await usableSession(services, principal, id);
    requireFeature(services, id, FEATURES_FOR[feature], what);
    const lease = await translated(() => participants.acquire(id, principal, [capability], c.get('address')));
    try {
      await translated(() =>
        lease.participant.allowed(capability, participants.consentWaitMs, c.req.raw.signal),
      );
      return lease;
    } catch (error) {
      lease.release();
      throw error;
    }
  };

  app.openapi({ ...routes.connect, middleware: [requireScope('sessions:write')] }, async (c) => {
    const principal = c.get('principal');
    const { id } = c.req.valid('param');
    const { capabilities } = c.req.valid('json');
    await usableSession(services, principal, id);
    for (const capability of capabilities) requireFeature(services, id, FEATURES_FOR[capability], capability);
    const lease = await translated(() => participants.acquire(id, principal, capabilities, c.get('address')));
    const { participant } = lease;
    // A user who already accepted is asked for what this script needs and they have not allowed.
    participant.requestMore(capabilities);
    lease.release();
    return c.json(
      {
        slot: participant.slot ?? 0,
        consent: participant.consent,
        permissions: participant.consent === 'accepted' ? participant.permissions : null,
      },
      200,
    );
  });

  app.openapi({ ...routes.exec, middleware: [requireScope('exec'), idempotent(services)] }, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    // A command refused before it ran is no result of the Idempotency-Key: a retry runs it.
    const refusedBeforeRun = (error: unknown) => {
      notAResult(c);
      throw error;
    };
    const lease = await participantFor(c, id, 'shell', 'exec', 'commands').catch(refusedBeforeRun);
    let slot: ReturnType<ExecLimits['acquire']>;
    try {
      slot = execLimits.acquire(id, body.maxOutputBytes);
    } catch (error) {
      lease.release();
      return refusedBeforeRun(error);
    }
    try {
      const outcome = await translated(() =>
        runCommand(
          lease.participant,
          {
            command: body.command,
            cwd: body.cwd,
            timeoutMs: body.timeoutSeconds * 1000,
            maxOutputBytes: slot.maxOutputBytes,
          },
          c.req.raw.signal,
        ),
      );
      return c.json(execResult(outcome, body.outputEncoding), 200);
    } catch (error) {
      if (error instanceof ApiError && isChannelFailure(error.cause) && error.cause.fromAgent) notAResult(c);
      throw error;
    } finally {
      slot.release();
      lease.release();
    }
  });

  app.openapi({ ...routes.list, middleware: [requireScope('files')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { path, offset } = c.req.valid('query');
    const lease = await participantFor(c, id, 'files', 'files', 'files');
    try {
      const listing = await translated(() =>
        channelRequest(
          lease.participant,
          (channel) => ({ type: 'file-list', channel, path, offset }),
          (message) => (message.type === 'file-listing' ? message : undefined),
          { signal: c.req.raw.signal },
        ),
      );
      const end = listing.offset + listing.entries.length;
      return c.json(
        {
          path: listing.path,
          root: listing.root,
          offset: listing.offset,
          total: listing.total,
          entries: listing.entries,
          nextOffset: end < listing.total && listing.entries.length > 0 ? end : null,
        },
        200,
      );
    } finally {
      lease.release();
    }
  });

  app.openapi({ ...routes.download, middleware: [requireScope('files')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { path } = c.req.valid('query');
    const lease = await participantFor(c, id, 'files', 'files', 'files');
    // The lease is released when the transfer ends, not when this handler returns.
    // On Node, a failed transfer cuts the connection itself (see file-download.ts).
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    return translated(() =>
      downloadResponse(
        lease,
        path,
        {
          range: c.req.header('range'),
          ifRange: c.req.header('if-range'),
          ifMatch: c.req.header('if-match'),
        },
        services.config.transferIdleMs,
        c.req.raw.signal,
        outgoing ? () => outgoing.destroy() : undefined,
        c.req.raw.method === 'HEAD',
      ),
    );
  });

  app.openapi({ ...routes.upload, middleware: [requireScope('files')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { path, overwrite } = c.req.valid('query');
    const length = c.req.header('content-length');
    if (length === undefined || !/^\d+$/.test(length) || !Number.isSafeInteger(Number(length))) {
      throw new ApiError(
        411,
        'VALIDATION_FAILED',
        'Send the file with a Content-Length (curl -T FILE does).',
      );
    }
    const lease = await participantFor(c, id, 'files', 'files', 'files');
    try {
      const stored = await translated(() =>
        uploadFile(
          lease.participant,
          {
            path,
            size: Number(length),
            overwrite: overwrite === 'true',
            idleMs: services.config.transferIdleMs,
          },
          c.req.raw.body,
          c.req.raw.signal,
        ),
      ).catch((error: unknown) => {
        if (error instanceof ApiError && error.cause instanceof BodyStalled) {
          // The client is still sending, slowly if at all: the answer closes the connection.
          throw new ApiError(408, 'TIMEOUT', error.message, { headers: { Connection: 'close' } });
        }
        throw error;
      });
      return c.json(stored, 201);
    } finally {
      lease.release();
    }
  });

  app.openapi({ ...routes.fileOp, middleware: [requireScope('files')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { op, path, to } = c.req.valid('json');
    const moves = op === 'rename' || op === 'copy';
    if (moves && to === undefined) throw new ApiError(400, 'VALIDATION_FAILED', `to: a ${op} needs it`);
    const lease = await participantFor(c, id, 'files', 'files', 'files');
    try {
      await translated(() =>
        channelRequest(
          lease.participant,
          (channel) => ({ type: 'file-op', channel, op, path, ...(moves ? { to } : {}) }),
          (message) => (message.type === 'file-op-done' ? message : undefined),
          { signal: c.req.raw.signal },
        ),
      );
      return c.json({ op, path, ...(moves && to !== undefined ? { to } : {}) }, 200);
    } finally {
      lease.release();
    }
  });

  app.openapi({ ...routes.sendChat, middleware: [requireScope('sessions:write')] }, async (c) => {
    const { id } = c.req.valid('param');
    const { text } = c.req.valid('json');
    const lease = await participantFor(c, id, 'chat', 'chat', 'chat');
    try {
      const sent = await translated(() => lease.participant.chat(text));
      return c.json({ id: sent.id, text: sent.text, from: sent.from, sentAt: sent.sentAt }, 201);
    } finally {
      lease.release();
    }
  });

  app.openapi({ ...routes.readChat, middleware: [requireScope('sessions:read')] }, async (c) => {
    const { id } = c.req.valid('param');
    await usableSession(services, c.get('principal'), id);
    const history = services.relay.chatHistory(id);
    if (!history)
      throw channelApiError(new ChannelFailure('AGENT_OFFLINE', 'The session is not live on this node.'));
    return c.json(
      {
        items: history.map((message) => ({
          id: message.id,
          text: message.text,
          from: message.from,
          sentAt: message.sentAt,
        })),
      },
      200,
    );
  });

  return app;
}
