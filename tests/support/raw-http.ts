import { request as httpRequest, type IncomingMessage } from 'node:http';

/** What `rawRequest` sends besides its method and path. */
export interface RawRequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/**
 * A request over a real socket, as curl sends it, with `token` as its bearer: the response comes as
 * it arrives (status and headers first), for streamed uploads and downloads.
 * @example
 * const response = await rawRequest(cp.url, token, 'GET', `/api/sessions/${id}/files/content?path=a.bin`);
 * const bytes = await readAll(response);
 */
export function rawRequest(
  base: string,
  token: string,
  method: string,
  path: string,
  options: RawRequestOptions = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...options.headers },
    });
    request.on('response', resolve);
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Reads a whole response body; rejects if the connection is cut before its end. */
export function readAll(response: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', reject);
    response.on('aborted', () => reject(new Error('aborted')));
    response.on('close', () => {
      if (!response.complete) reject(new Error('the response was cut short'));
    });
  });
}
