import { execFileSync } from 'node:child_process';

/** Where Windows keeps the proxy the user set in Settings (WinINet's, per user). */
const INTERNET_SETTINGS = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
/** How long `reg query` may take, in ms: it answers at once on Windows, in a second or two under Wine. */
const REG_TIMEOUT_MS = 10_000;
/** How long one `gsettings get` may take, in ms. */
const GSETTINGS_TIMEOUT_MS = 5_000;
/** How long `scutil --proxy` may take, in ms: it answers at once from configd. */
const SCUTIL_TIMEOUT_MS = 5_000;

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
/** What macOS' settings are called in messages. */
export const MACOS_SOURCE = "macOS' proxy setting (System Settings > Network > Proxies)";

/**
 * A system's proxy exceptions in `NO_PROXY` form: `*.example.org` becomes `.example.org`; other
 * wildcards (`10.*`) and address ranges (`10.0.0.0/8`, `169.254/16`) cannot be said there and are
 * left out.
 */
function exceptionsAsNoProxy(entries: string[]): string[] {
  return entries
    .map((entry) => entry.trim().toLowerCase())
    .flatMap((entry) => {
      if (/^\*\.[^*/]+$/.test(entry)) return [entry.slice(1)];
      return entry && !entry.includes('*') && !entry.includes('/') ? [entry] : [];
    });
}

/** What "names without a dot" (Windows' `<local>`, macOS' "Exclude simple hostnames") can be in `NO_PROXY`. */
const SIMPLE_HOSTNAMES = ['localhost', '127.0.0.1', '::1'];

/** `host:port`, the host in brackets when it is an IPv6 address; undefined without both. */
function hostPort(host: string | undefined, port: number): string | undefined {
  return host && port > 0 ? `${host.includes(':') ? `[${host}]` : host}:${port}` : undefined;
}

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
    .flatMap((entry) =>
      entry.trim().toLowerCase() === '<local>' ? SIMPLE_HOSTNAMES : exceptionsAsNoProxy([entry]),
    );
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
    return hostPort(host, Number(get(`org.gnome.system.proxy.${scheme}`, 'port')?.trim()));
  };
  const https = address('https');
  const http = address('http');
  if (!https && !http) return undefined;
  const noProxy = exceptionsAsNoProxy(gvariantStrings(get('org.gnome.system.proxy', 'ignore-hosts')));
  return { source: GNOME_SOURCE, ...(https ? { https } : {}), ...(http ? { http } : {}), noProxy };
}

/** What a command prints, or undefined where it is missing, fails or takes longer than `timeoutMs`. */
function commandOutput(command: string, args: string[], timeoutMs: number): string | undefined {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      timeout: timeoutMs,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

/** `gsettings get schema key`, or undefined where there is no gsettings or no such schema. */
const gsettingsGet: GsettingsGet = (schema, key) =>
  commandOutput('gsettings', ['get', schema, key], GSETTINGS_TIMEOUT_MS);

/** A dictionary or array as `scutil` prints it: an array's keys are its indexes, in order. */
type ScutilDictionary = Map<string, string | ScutilDictionary>;

/**
 * What `scutil --proxy` prints, as nested maps: `<dictionary> {`, one `Key : value` a line, and
 * `Key : <array> {` or `Key : <dictionary> {` opening a nested one that `}` closes.
 */
function parseScutil(output: string): ScutilDictionary {
  const root: ScutilDictionary = new Map();
  const open: ScutilDictionary[] = [];
  for (const line of output.split(/\r?\n/).map((text) => text.trim())) {
    const current = open.at(-1);
    if (line === '}') open.pop();
    else if (!current) {
      if (line.endsWith('{')) open.push(root);
    } else {
      const match = /^(\S+) : (.*)$/.exec(line);
      if (!match) continue;
      if (/^<(dictionary|array)> \{$/.test(match[2]!)) {
        const nested: ScutilDictionary = new Map();
        current.set(match[1]!, nested);
        open.push(nested);
      } else current.set(match[1]!, match[2]!);
    }
  }
  return root;
}

/**
 * Reads what `scutil --proxy` prints (the proxies of the network service in use, System Settings >
 * Network > Proxies): a PAC script (`ProxyAutoConfigEnable`, `ProxyAutoConfigURLString`) first, then
 * the manual proxies (`HTTPSEnable`/`HTTPSProxy`/`HTTPSPort`, the same for `HTTP`), with
 * `ExceptionsList` in `NO_PROXY` form (`*.local` becomes `.local`; address ranges such as `169.254/16`
 * are left out) and `ExcludeSimpleHostnames` as `localhost` and the loopback addresses. The
 * per-interface copies under `__SCOPED__` are not read.
 * @example
 * parseScutilProxy('<dictionary> {\n  HTTPEnable : 1\n  HTTPPort : 3128\n  HTTPProxy : proxy.corp\n}')
 * // { source: MACOS_SOURCE, http: 'proxy.corp:3128', noProxy: [] }
 */
export function parseScutilProxy(output: string): SystemProxy | undefined {
  const settings = parseScutil(output);
  const text = (key: string) => {
    const value = settings.get(key);
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const pac = text('ProxyAutoConfigEnable') === '1' ? text('ProxyAutoConfigURLString') : undefined;
  const address = (scheme: 'HTTP' | 'HTTPS') =>
    text(`${scheme}Enable`) === '1'
      ? hostPort(text(`${scheme}Proxy`), Number(text(`${scheme}Port`)))
      : undefined;
  const https = address('HTTPS');
  const http = address('HTTP');
  if (!pac && !https && !http) return undefined;
  const exceptions = settings.get('ExceptionsList');
  const noProxy = [
    ...(text('ExcludeSimpleHostnames') === '1' ? SIMPLE_HOSTNAMES : []),
    ...exceptionsAsNoProxy(
      typeof exceptions === 'object' ? [...exceptions.values()].filter((v) => typeof v === 'string') : [],
    ),
  ];
  return {
    source: MACOS_SOURCE,
    ...(pac ? { pac } : {}),
    ...(https ? { https } : {}),
    ...(http ? { http } : {}),
    noProxy,
  };
}

/**
 * The proxy set in the system's settings for this user: Windows' Internet Settings, GNOME's on Linux,
 * or macOS' (`scutil --proxy`); undefined elsewhere, or when none is set.
 */
export function systemProxy(platform: NodeJS.Platform = process.platform): SystemProxy | undefined {
  if (platform === 'linux') return readGnomeProxy(gsettingsGet);
  // Each parser reads nothing from an empty output: a missing or failing command is no proxy.
  if (platform === 'darwin')
    return parseScutilProxy(commandOutput('scutil', ['--proxy'], SCUTIL_TIMEOUT_MS) ?? '');
  if (platform === 'win32')
    return parseInternetSettings(commandOutput('reg', ['query', INTERNET_SETTINGS], REG_TIMEOUT_MS) ?? '');
  return undefined;
}
