import { execFileSync } from 'node:child_process';

/** Where Windows keeps the proxy the user set in Settings (WinINet's, per user). */
const INTERNET_SETTINGS = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
/** How long `reg query` may take, in ms: it answers at once on Windows, in a second or two under Wine. */
const REG_TIMEOUT_MS = 10_000;
/** How long one `gsettings get` may take, in ms. */
const GSETTINGS_TIMEOUT_MS = 5_000;

/** The system's proxy, written as the conventional variables would say it. */
export interface SystemProxy {
  /** Which setting it came from, to name in messages: "Windows' proxy setting (…)". */
  source: string;
  /** The address of a proxy auto-configuration script (PAC): it decides, before the proxies below. */
  pac?: string;
  https?: string;
  http?: string;
  /** Hosts reached directly, in `NO_PROXY` form. */
  noProxy: string[];
}

/** What Windows' settings are called in messages. */
export const WINDOWS_SOURCE = "Windows' proxy setting (Settings > Network > Proxy)";
/** What GNOME's settings are called in messages. */
export const GNOME_SOURCE = "GNOME's proxy setting (Settings > Network > Network Proxy)";

/**
 * Reads what `reg query` prints for the Internet Settings key: the proxy when `ProxyEnable` is 1.
 * `ProxyServer` is `host:port` for every scheme or `http=host:port;https=host:port`; `ProxyOverride`'s
 * `*.example.org` becomes `.example.org` and `<local>` (names without a dot) becomes `localhost` and the
 * loopback addresses, the nearest that `NO_PROXY` can say; address wildcards such as `10.*` cannot be
 * said and are left out. A proxy auto-configuration script (`AutoConfigURL`, "Use setup script") is
 * read whatever `ProxyEnable` says, as Windows does: it comes first, the manual proxy after it.
 */
export function parseInternetSettings(regOutput: string): SystemProxy | undefined {
  const values = new Map<string, string>();
  for (const line of regOutput.split(/\r?\n/)) {
    // A value's name may hold spaces (`User Agent`); its type and data follow.
    const match = /^\s+(\S(?:.*?\S)?)\s+REG_\w+\s+(.*?)\s*$/.exec(line);
    if (match) values.set(match[1]!.toLowerCase(), match[2]!);
  }
  const pac = values.get('autoconfigurl')?.trim();
  const manual = Number(values.get('proxyenable') ?? '0') === 1 ? values.get('proxyserver')?.trim() : '';
  if (!manual) return pac ? { source: WINDOWS_SOURCE, pac, noProxy: [] } : undefined;
  const server = manual;
  const perScheme = new Map<string, string>();
  for (const part of server.split(';')) {
    const [scheme, address] = part.includes('=') ? part.split('=', 2) : ['', part];
    if (address?.trim()) perScheme.set(scheme!.trim().toLowerCase(), address.trim());
  }
  const http = perScheme.get('http') ?? perScheme.get('');
  const https = perScheme.get('https') ?? perScheme.get('');
  const noProxy = (values.get('proxyoverride') ?? '')
    .split(';')
    .map((entry) => entry.trim().toLowerCase())
    .flatMap((entry) => {
      if (entry === '<local>') return ['localhost', '127.0.0.1', '::1'];
      if (/^\*\.[^*]+$/.test(entry)) return [entry.slice(1)];
      return entry && !entry.includes('*') ? [entry] : [];
    });
  return {
    source: WINDOWS_SOURCE,
    ...(pac ? { pac } : {}),
    ...(https ? { https } : {}),
    ...(http ? { http } : {}),
    noProxy,
  };
}

/** One value as `gsettings get` prints it (GVariant text): `'auto'`, `8080`, `['localhost', '::1']`. */
export type GsettingsGet = (schema: string, key: string) => string | undefined;

/** GVariant text of a string or an array of strings, as plain strings. */
function gvariantStrings(text: string | undefined): string[] {
  return [...(text ?? '').matchAll(/'((?:[^'\\]|\\.)*)'/g)].map((match) => match[1]!.replace(/\\(.)/g, '$1'));
}

/**
 * GNOME's proxy setting (`org.gnome.system.proxy`), read through `gsettings get`: `mode` 'auto' is
 * a PAC script at `autoconfig-url`; 'manual' is `.https` and `.http`'s `host` and `port`, with
 * `ignore-hosts` (`localhost`, `*.corp.example`, `10.0.0.0/8`) as exceptions in `NO_PROXY` form
 * (address ranges cannot be said there and are left out); 'none' or anything else is no proxy.
 */
export function readGnomeProxy(get: GsettingsGet): SystemProxy | undefined {
  const mode = gvariantStrings(get('org.gnome.system.proxy', 'mode'))[0];
  if (mode === 'auto') {
    const pac = gvariantStrings(get('org.gnome.system.proxy', 'autoconfig-url'))[0]?.trim();
    return pac ? { source: GNOME_SOURCE, pac, noProxy: [] } : undefined;
  }
  if (mode !== 'manual') return undefined;
  const address = (scheme: 'http' | 'https') => {
    const host = gvariantStrings(get(`org.gnome.system.proxy.${scheme}`, 'host'))[0]?.trim();
    const port = Number(get(`org.gnome.system.proxy.${scheme}`, 'port')?.trim());
    return host && port > 0 ? `${host.includes(':') ? `[${host}]` : host}:${port}` : undefined;
  };
  const https = address('https');
  const http = address('http');
  if (!https && !http) return undefined;
  const noProxy = gvariantStrings(get('org.gnome.system.proxy', 'ignore-hosts'))
    .map((entry) => entry.trim().toLowerCase())
    .flatMap((entry) => {
      if (/^\*\.[^*]+$/.test(entry)) return [entry.slice(1)];
      return entry && !entry.includes('*') && !entry.includes('/') ? [entry] : [];
    });
  return { source: GNOME_SOURCE, ...(https ? { https } : {}), ...(http ? { http } : {}), noProxy };
}

/** `gsettings get schema key`, or undefined where there is no gsettings or no such schema. */
function gsettingsGet(schema: string, key: string): string | undefined {
  try {
    return execFileSync('gsettings', ['get', schema, key], {
      encoding: 'utf8',
      timeout: GSETTINGS_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

/**
 * The proxy set in the system's settings for this user: Windows' Internet Settings, or GNOME's on
 * Linux; undefined elsewhere (macOS is not read), or when none is set.
 */
export function systemProxy(platform: NodeJS.Platform = process.platform): SystemProxy | undefined {
  if (platform === 'linux') return readGnomeProxy(gsettingsGet);
  if (platform !== 'win32') return undefined;
  try {
    const output = execFileSync('reg', ['query', INTERNET_SETTINGS], {
      encoding: 'utf8',
      timeout: REG_TIMEOUT_MS,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return parseInternetSettings(output);
  } catch {
    return undefined;
  }
}
