import { type SystemProxy, systemProxy } from './system-proxy.ts';

/**
 * Which HTTP proxy, if any, the agent goes through to reach a server: `--proxy URL` for every
 * server, otherwise the conventional environment (`https_proxy`/`HTTPS_PROXY` for https and wss,
 * `http_proxy`/`HTTP_PROXY` for http and ws, lower case first as curl reads them), except for the
 * hosts `no_proxy`/`NO_PROXY` names.
 */
export interface ProxySettings {
  /** Given with `--proxy`: used for every server, whatever its scheme. */
  explicit?: URL;
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
 * Reads `--proxy` and the environment; where neither names a proxy, the system's (Windows' settings,
 * see system-proxy.ts). @throws ProxyConfigError for a proxy that is not `http://host:port`.
 */
export function proxySettings(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  system: () => SystemProxy | undefined = systemProxy,
): ProxySettings {
  const pick = (...names: string[]) => names.map((name) => env[name]).find((value) => value?.trim());
  const https = pick('https_proxy', 'HTTPS_PROXY');
  const http = pick('http_proxy', 'HTTP_PROXY');
  const fromSystem = flag === undefined && !https && !http ? system() : undefined;
  if (fromSystem) {
    const source = "Windows' proxy setting (Settings > Network > Proxy)";
    return {
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

/** The proxy to reach `target` (an http(s) or ws(s) URL) through, or undefined to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | undefined {
  if (settings.explicit) return settings.explicit;
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? settings.https : settings.http;
  if (!proxy || bypassed(target, settings.noProxy)) return undefined;
  return proxy;
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
