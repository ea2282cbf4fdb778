import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isAgentError } from '../../agent/core/errors.ts';
import { joinWithCode } from '../../agent/core/join.ts';
import { register } from '../../agent/core/registration.ts';
import { expectJson } from '../support/api.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';

const INFO = { name: 'lifeline-agent', version: '0.0.0', hostname: 'answers-host', os: 'linux' };

/** A server at the control plane's address that answers every POST with `status` and `body`. */
async function answering(status: number, body: unknown, contentType = 'application/json'): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closing<T>(server: Server, run: (url: string) => Promise<T>): Promise<T> {
  try {
    return await run(urlOf(server));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Asserts `promise` fails with an AgentError of `kind` whose message matches `message`. */
async function assertAgentError(promise: Promise<unknown>, kind: string, message: RegExp) {
  await assert.rejects(promise, (error) => {
    assert.ok(isAgentError(error), `an AgentError, not ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    return true;
  });
}

describe('the agent reads the control plane answers with the API schemas', () => {
  let cp: TestControlPlane;

  before(async () => {
    cp = await startControlPlane({ listen: true });
  });

  after(async () => {
    await cp.stop();
  });

  it('registering with a real control plane yields the session, its code, the relay grant and the signed policy', async () => {
    const registration = await register(cp.url, INFO);
    assert.match(registration.code, /^\d{9}$/);
    assert.ok(registration.codeExpiresAt.getTime() > Date.now());
    assert.match(registration.relay.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    assert.equal(registration.policyToken.split('.').length, 3, 'the policy token is a JWT');
  });

  it('joining with the code of an operator-first session yields its relay grant and signed policy', async () => {
    const admin = { cookie: await loginCookie(cp.app) };
    const created = await expectJson<{ session: { id: string }; code: string }>(
      await cp.app.request('/api/sessions', {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: '{}',
      }),
      201,
    );
    const result = await joinWithCode(cp.url, created.code, INFO);
    assert.ok(result.ok, 'the code is accepted');
    assert.equal(result.attachment.sessionId, created.session.id);
    assert.equal(result.attachment.policyToken?.split('.').length, 3);
  });

  it('a wrong code comes back as CODE_INVALID with the server’s words, not as an exception', async () => {
    const result = await joinWithCode(cp.url, '000000001', INFO);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.code, 'CODE_INVALID');
    assert.ok(result.message.length > 0);
  });

  it('a registration answer without the signed policy is refused as an unexpected format naming the field', async () => {
    const server = await answering(201, {
      sessionId: 's-1',
      code: '123456789',
      displayCode: '123 456 789',
      codeExpiresAt: new Date(Date.now() + 60_000).toISOString(),
      relay: { url: 'ws://127.0.0.1:1/ws', token: 't' },
    });
    await closing(server, (url) =>
      assertAgentError(register(url, INFO), 'protocol', /unexpected format \(policy: .*Lifeline server/),
    );
  });

  it('a join answer whose relay URL is not a string is refused as an unexpected format naming the field', async () => {
    const server = await answering(200, {
      sessionId: 's-1',
      relay: { url: 42, token: 't' },
      policy: {},
      policyToken: 'a.b.c',
    });
    await closing(server, (url) =>
      assertAgentError(joinWithCode(url, '123456789', INFO), 'protocol', /unexpected format \(relay\.url: /),
    );
  });

  it('a refusal that is not a problem document is reported with its HTTP status', async () => {
    const server = await answering(502, '<html>Bad gateway</html>', 'text/html');
    await closing(server, (url) =>
      assertAgentError(register(url, INFO), 'refused', /refused to register this agent: HTTP 502/),
    );
  });
});
