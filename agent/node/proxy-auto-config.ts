import { readFile, stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { fileURLToPath } from 'node:url';
import { PacScript, PacScriptError } from './pac-script.ts';
import { ProxyConfigError, type ProxySettings } from './proxy-settings.ts';

/** The largest proxy auto-configuration script the agent loads, in bytes (real ones are a few KB). */
export const PAC_MAX_BYTES = 1024 * 1024;
/** How long fetching the script may take, in ms, from the request to its last byte. */
export const PAC_FETCH_MS = 10_000;

/**
 * Fetches a proxy auto-configuration script: directly (the script says which proxy to use, so it
 * cannot be fetched through one), within {@link PAC_MAX_BYTES} and {@link PAC_FETCH_MS}, following
 * no redirect. A `file:` address is read from disk.
 * @throws Error saying why, for the caller to name the setting.
 */
export async function fetchPacText(url: URL): Promise<string> {
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    if ((await stat(path)).size > PAC_MAX_BYTES) throw new Error(`larger than ${PAC_MAX_BYTES} bytes`);
    return readFile(path, 'utf8');
  }
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = get(url, { signal: AbortSignal.timeout(PAC_FETCH_MS) }, (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`the server answered HTTP ${response.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > PAC_MAX_BYTES) {
          request.destroy();
          reject(new Error(`larger than ${PAC_MAX_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.on('error', reject);
    });
    request.on('error', (error) =>
      reject(error.name === 'AbortError' ? new Error(`no answer within ${PAC_FETCH_MS / 1000} s`) : error),
    );
  });
}

/**
 * Fetches and loads the proxy auto-configuration script the settings name, if any (and no `--proxy`
 * overrides it), so that proxyRoutes consults it. A script given with `--proxy-pac` that cannot be
 * used is an error; one from the system's setting that cannot be is passed over, as browsers do, for
 * the system's manual proxy or a direct connection.
 * @returns a sentence for the end user when the system's script was passed over.
 * @throws ProxyConfigError when the script given with `--proxy-pac` cannot be fetched or loaded.
 */
export async function loadProxyAutoConfig(settings: ProxySettings): Promise<string | undefined> {
  const pac = settings.pac;
  if (!pac || pac.script || settings.explicit) return undefined;
  try {
    pac.script = new PacScript(await fetchPacText(pac.url));
    return undefined;
  } catch (error) {
    const why = error instanceof PacScriptError ? error.message : `Cannot fetch it: ${errorText(error)}.`;
    const message = `${pac.source}: the proxy auto-configuration script at ${shownUrl(pac.url)} cannot be used. ${why}`;
    if (pac.source === '--proxy-pac') throw new ProxyConfigError(message, { cause: error });
    const instead = settings.https || settings.http ? 'its manual proxy' : 'a direct connection';
    return `${message} Going on with ${instead}.`;
  }
}

/** An error's message, or its code where Node gave none (an `AggregateError` of refused addresses). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.message || String((error as { code?: unknown }).code ?? error.name);
}

/** The script's address as it may be shown: without a password. */
function shownUrl(url: URL): string {
  if (!url.password) return url.href;
  const shown = new URL(url.href);
  shown.password = '';
  return shown.href;
}
