import { createHash } from 'node:crypto';
import { apiRequest } from '../support/api.ts';
import { BenchFailure } from '../support/failure.ts';
import { PROBE_COMMAND, PROBE_OUTPUT } from './commands.ts';
import type { Transfer } from './transfers.ts';

/** The paths this benchmark uses, as the control plane's OpenAPI document names them. */
const API_PATHS = ['/sessions/{id}/exec', '/sessions/{id}/files/content'];

/** The HTTP API's commands and files for one session, as a script with a bearer token uses them. */
export interface SessionApi {
  download(path: string, expectedSha256: string): Promise<Transfer>;
  upload(path: string, data: Uint8Array, sha256: string): Promise<Transfer>;
  /** Runs PROBE_COMMAND; returns the ms until the answer. */
  exec(): Promise<number>;
}

/**
 * Whether this control plane serves the API for exec and file transfers: its OpenAPI document lists
 * the routes. Undefined when it does, else why not.
 */
export async function apiMissing(baseUrl: string): Promise<string | undefined> {
  const response = await fetch(new URL('/openapi.json', baseUrl));
  if (!response.ok) return `GET /openapi.json answered ${response.status}`;
  const paths = Object.keys(((await response.json()) as { paths?: Record<string, unknown> }).paths ?? {});
  const missing = API_PATHS.filter((path) => !paths.some((listed) => listed.endsWith(path)));
  return missing.length ? `the control plane has no ${missing.join(', ')}` : undefined;
}

/** Makes an API token for the logged-in admin with the scopes scripts need for exec and files. */
export async function createApiToken(baseUrl: string, cookie: string): Promise<string> {
  const { body } = await apiRequest<{ token: string }>(baseUrl, '/api/tokens', {
    cookie,
    body: { name: 'lifeline-bench', scopes: ['sessions:read', 'sessions:write', 'exec', 'files'] },
  });
  return body.token;
}

async function problem(response: Response, what: string): Promise<BenchFailure> {
  const text = await response.text().catch(() => '');
  return new BenchFailure(`${what} answered ${response.status}: ${text.slice(0, 300)}`);
}

/** The API of session `sessionId` with `token`. */
export function sessionApi(baseUrl: string, token: string, sessionId: string): SessionApi {
  const authorization = `Bearer ${token}`;
  const url = (path: string) => new URL(`/api/sessions/${encodeURIComponent(sessionId)}${path}`, baseUrl);
  return {
    async download(path, expectedSha256) {
      const what = `GET files/content?path=${path}`;
      const started = performance.now();
      const response = await fetch(url(`/files/content?path=${encodeURIComponent(path)}`), {
        headers: { authorization },
      });
      if (response.status !== 200 || !response.body) throw await problem(response, what);
      const hash = createHash('sha256');
      let bytes = 0;
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          hash.update(value);
          bytes += value.byteLength;
        }
      } catch (error) {
        throw new BenchFailure(`${what}: the download was cut short after ${bytes} bytes`, { cause: error });
      }
      const seconds = (performance.now() - started) / 1000;
      if (hash.digest('hex') !== expectedSha256) {
        throw new BenchFailure(`${what}: the ${bytes} bytes that arrived are corrupt (SHA-256)`);
      }
      return { bytes, seconds };
    },
    async upload(path, data, sha256) {
      const what = `PUT files/content?path=${path}`;
      const started = performance.now();
      const response = await fetch(url(`/files/content?path=${encodeURIComponent(path)}&overwrite=true`), {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        // Sent as it is, without a copy; its memory is an ordinary ArrayBuffer.
        body: data as Uint8Array<ArrayBuffer>,
      });
      if (response.status !== 201) throw await problem(response, what);
      const stored = (await response.json()) as { size: number; sha256: string };
      const seconds = (performance.now() - started) / 1000;
      if (stored.size !== data.byteLength || stored.sha256 !== sha256) {
        throw new BenchFailure(`${what}: the agent stored ${stored.size} bytes with another SHA-256`);
      }
      return { bytes: data.byteLength, seconds };
    },
    async exec() {
      const what = `POST exec "${PROBE_COMMAND}"`;
      const started = performance.now();
      const response = await fetch(url('/exec'), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ command: PROBE_COMMAND }),
      });
      if (response.status !== 200) throw await problem(response, what);
      const result = (await response.json()) as { exitCode: number | null; stdout: string };
      const ms = performance.now() - started;
      if (result.exitCode !== 0 || result.stdout !== PROBE_OUTPUT) {
        throw new BenchFailure(`${what}: exit ${result.exitCode}, stdout ${JSON.stringify(result.stdout)}`);
      }
      return ms;
    },
  };
}
