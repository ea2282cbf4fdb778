import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { createApp } from '../../control-plane/app.ts';
import { loadConfig } from '../../control-plane/config.ts';
import { serveControlPlane } from '../../control-plane/http/node-server.ts';
import { loadTlsIdentity } from '../../control-plane/http/tls.ts';
import { createLogger } from '../../control-plane/logger.ts';
import { Relay } from '../../control-plane/relay/relay.ts';
import { createServices, type Services } from '../../control-plane/services.ts';
import { agentRegistrationSchema } from '../../protocol/api/agent.ts';

export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestControlPlane {
  services: Services;
  app: ReturnType<typeof createApp>['app'];
  /** http://127.0.0.1:PORT once `listen` was asked for; the public URL otherwise. */
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  listen?: boolean;
  env?: Record<string, string>;
  /** Collects every log line (JSON) the control plane writes, at level `trace` unless `env.LOG_LEVEL` says otherwise. */
  logs?: string[];
  /** How long the relay waits for a peer's hello, in milliseconds; the relay's default otherwise. */
  helloTimeoutMs?: number;
  /** Serve HTTPS with a certificate generated into the data directory (`LIFELINE_TLS=self-signed`). */
  tls?: boolean;
  /** Address to listen on and to name in the public URL; 127.0.0.1 unless set (the benchmark's thin link). */
  host?: string;
}

/** A loopback port free right now, for a server whose URL must be known before it starts. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = serve({ fetch: () => new Response(), port: 0, hostname: '127.0.0.1' }, (info) => {
      probe.close(() => resolve(info.port));
    });
  });
}

/**
 * A real control plane on a temporary data directory (a real libSQL file), optionally listening on a
 * free loopback port for WebSocket and browser tests.
 */
export async function startControlPlane(options: StartOptions = {}): Promise<TestControlPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-test-'));
  let port = 0;
  let server: ReturnType<typeof serve> | undefined;
  // Reserve a free port first: the public URL (the tokens' issuer) must name it.
  if (options.listen) port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const url = `${options.tls ? 'https' : 'http'}://${host}:${port || 8080}`;
  const config = loadConfig({
    LIFELINE_DATA_DIR: dataDir,
    PORT: String(port || 8080),
    LIFELINE_PUBLIC_URL: url,
    LIFELINE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: options.logs ? 'trace' : (process.env['TEST_LOG_LEVEL'] ?? 'silent'),
    // A lost agent ends its session at once unless a test is about the grace period (and sets it).
    LIFELINE_AGENT_GRACE_SECONDS: '0',
    // The console tests/run.mjs built for this run; unset, the server serves dist/console.
    LIFELINE_CONSOLE_DIR: process.env['LIFELINE_CONSOLE_DIR'],
    ...(options.tls ? { LIFELINE_TLS: 'self-signed' } : {}),
    ...options.env,
  });
  const logger = createLogger(config.logLevel);
  const logs = options.logs;
  if (logs) {
    // The real logger, redaction included, with its destination swapped for an in-memory one.
    (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = {
      write: (line: string) => logs.push(line),
    };
  }
  const services = await createServices(config, logger, { announce: () => {} });
  if (options.helloTimeoutMs !== undefined) {
    const replaced = services.relay;
    services.relay = new Relay({
      ...services,
      helloTimeoutMs: options.helloTimeoutMs,
      agentGraceMs: config.agentGraceMs,
      pingMs: config.pingMs,
      messageBudget: config.relayMessageBudget,
    });
    await replaced.shutdown();
  }
  const { app, injectWebSocket } = createApp(services);
  if (options.listen) {
    const tls = await loadTlsIdentity(config);
    server = serveControlPlane(app.fetch, config, logger, { port, hostname: host }, undefined, tls);
    injectWebSocket(server);
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    void (server as unknown as { address(): AddressInfo }).address();
  }
  return {
    services,
    app,
    url,
    dataDir,
    async stop() {
      // services.close() shuts down the relay it built; a relay swapped in above is shut down here.
      await services.relay.shutdown();
      await services.close();
      if (server) {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Logs in through the API and returns the cookie header to send. */
export async function loginCookie(
  app: TestControlPlane['app'],
  username = ADMIN_USERNAME,
  password = ADMIN_PASSWORD,
): Promise<string> {
  const response = await app.request('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get('set-cookie');
  if (!cookie) throw new Error('login set no cookie');
  return cookie.split(';')[0]!;
}

/** Registers an agent through the API, as the agent does. */
export async function registerAgent(app: TestControlPlane['app']) {
  const response = await app.request('/api/agent/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'test-agent', version: '0.0.0', hostname: 'test-host', os: 'linux' }),
  });
  if (response.status !== 201)
    throw new Error(`register failed: ${response.status} ${await response.text()}`);
  return agentRegistrationSchema.parse(await response.json());
}
