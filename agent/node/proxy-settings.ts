import type { PacRoute, PacScript } from './pac-script.ts';
import { type SystemProxy, systemProxy } from './system-proxy.ts';

/**
 * Which HTTP proxy, if any, the agent goes through to reach a server: `--proxy URL` for every
 * server, otherwise a proxy auto-configuration script (`--proxy-pac URL`), otherwise the
 * conventional environment (`https_proxy`/`HTTPS_PROXY` for https and wss, `http_proxy`/`HTTP_PROXY`
 * for http and ws, lower case first as curl reads them), except for the hosts `no_proxy`/`NO_PROXY`
 * names; otherwise the system's setting (its script first, then its manual proxy).
 */
export interface ProxySettings {
  /** Given with `--proxy`: used for every server, whatever its scheme. */
  explicit?: URL;
  /**
   * A proxy auto-configuration script: where it is and which setting named it; `script` once it was
   * fetched and loaded (loadProxyAutoConfig in proxy-auto-config.ts). It decides for every server.
   */
  pac?: { url: URL; source: string; script?: PacScript };
  /** From the environment, per scheme of the server. */
  https?: URL;
  http?: URL;
  /** Host patterns that are reached directly (`NO_PROXY`): `*`, `example.org`, `.example.org`, `host:port`. */
  noProxy: string[];
}

/** A proxy setting that cannot be used; the message says what to write instead. */
export class ProxyConfigError extends Error {
  override readonly name = 'ProxyConfigError';
}

/**
 * Reads `--proxy`, `--proxy-pac` (`pacFlag`) and the environment; where none names a proxy, the
 * system's (Windows' or GNOME's settings, see system-proxy.ts).
 * @throws ProxyConfigError for a proxy that is not `http://host:port`, or a script address that is
 * not http, https or file.
 */
export function proxySettings(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  system: () => SystemProxy | undefined = systemProxy,
  pacFlag?: string,
): ProxySettings {
  if (flag === undefined && pacFlag !== undefined)
    return { pac: { url: parsePacUrl(pacFlag, '--proxy-pac'), source: '--proxy-pac' }, noProxy: [] };
  const pick = (...names: string[]) => names.map((name) => env[name]).find((value) => value?.trim());
  const https = pick('https_proxy', 'HTTPS_PROXY');
  const http = pick('http_proxy', 'HTTP_PROXY');
  const fromSystem = flag === undefined && !https && !http ? system() : undefined;
  if (fromSystem) {
    const source = fromSystem.source;
    return {
      ...(fromSystem.pac ? { pac: { url: parsePacUrl(fromSystem.pac, source), source } } : {}),
      ...(fromSystem.https ? { https: parseProxy(fromSystem.https, source) } : {}),
      ...(fromSystem.http ? { http: parseProxy(fromSystem.http, source) } : {}),
      noProxy: fromSystem.noProxy,
    };
  }
  const noProxy = (pick('no_proxy', 'NO_PROXY') ?? '')
    .split(/[,\s]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  return {
    ...(flag !== undefined ? { explicit: parseProxy(flag, '--proxy') } : {}),
    ...(https ? { https: parseProxy(https, 'HTTPS_PROXY') } : {}),
    ...(http ? { http: parseProxy(http, 'HTTP_PROXY') } : {}),
    noProxy,
  };
}

function parseProxy(value: string, source: string): URL {
  // `host:port` without a scheme is common in proxy variables; it means http.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim()) ? value.trim() : `http://${value.trim()}`;
  if (!URL.canParse(text))
    throw new ProxyConfigError(`${source}: not a proxy address; write http://[user:password@]host:port`);
  const url = new URL(text);
  if (url.protocol !== 'http:' || !url.hostname) {
    throw new ProxyConfigError(
      `${source}: only http:// proxies are supported (the connection to the server inside is encrypted end to end), not ${url.protocol}//`,
    );
  }
  return url;
}

/** The address of a proxy auto-configuration script: http, https, or a file (Windows allows `file://`). */
function parsePacUrl(value: string, source: string): URL {
  const url = URL.canParse(value.trim()) ? new URL(value.trim()) : undefined;
  if (!url || !['http:', 'https:', 'file:'].includes(url.protocol)) {
    throw new ProxyConfigError(
      `${source}: not the address of a proxy auto-configuration script; write http(s)://host/proxy.pac or file:///path/proxy.pac`,
    );
  }
  return url;
}

/**
 * The routes to reach `target` (an http(s) or ws(s) URL) by, in the order to try them: a proxy, or
 * null for directly. Only a proxy auto-configuration script gives more than one (`PROXY a; DIRECT`).
 * @throws PacScriptError when the script fails for this target.
 */
export function proxyRoutes(target: URL, settings: ProxySettings): PacRoute[] {
  if (settings.explicit) return [settings.explicit];
  if (settings.pac?.script) return settings.pac.script.routesFor(target);
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? settings.https : settings.http;
  if (!proxy || bypassed(target, settings.noProxy)) return [null];
  return [proxy];
}

/** The first proxy to reach `target` (an http(s) or ws(s) URL) through, or undefined to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  return proxyRoutes(target, settings)[0] ?? undefined;
}

function bypassed(target: URL, noProxy: string[]): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' || target.protocol === 'wss:' ? '443' : '80');
  return noProxy.some((entry) => {
    if (entry === '*') return true;
    const match = /^(.*?)(?::(\d+))?$/.exec(entry.replace(/^\[|\](?=:|$)/g, ''));
    const [pattern = '', entryPort] = [match?.[1]?.replace(/^\*/, ''), match?.[2]];
    if (entryPort && entryPort !== port) return false;
    if (pattern.startsWith('.')) return host.endsWith(pattern) || host === pattern.slice(1);
    return host === pattern || host.endsWith(`.${pattern}`);
  });
}

/** The proxy as it may be shown or logged: never its password. */
export function describeProxy(proxy: URL): string {
  return `http://${proxy.username ? `${decodeURIComponent(proxy.username)}@` : ''}${proxy.host}`;
}

/**
 * The sentence the terminal shows for the route a connection took, naming the script that chose it.
 * @example
 * routeLine('help.example.org:443', new URL('http://proxy:3128'), settings)
 * // 'Reaching help.example.org:443 through the proxy http://proxy:3128.'
 */
export function routeLine(server: string, route: URL | null, settings: ProxySettings): string {
  const how = route ? `through the proxy ${describeProxy(route)}` : 'directly';
  const pac = settings.pac?.script && !settings.explicit ? settings.pac : undefined;
  const chosen = pac ? `, as the proxy auto-configuration script (${pac.source}) says` : '';
  return `Reaching ${server} ${how}${chosen}.`;
}
