import { execFileSync } from 'node:child_process';

/** Where Windows keeps the proxy the user set in Settings (WinINet's, per user). */
const INTERNET_SETTINGS = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
/** How long `reg query` may take, in ms: it answers at once on Windows, in a second or two under Wine. */
const REG_TIMEOUT_MS = 10_000;

/** The system's proxy, written as the conventional variables would say it. */
export interface SystemProxy {
  https?: string;
  http?: string;
  /** Hosts reached directly, in `NO_PROXY` form. */
  noProxy: string[];
}

/**
 * Reads what `reg query` prints for the Internet Settings key: the proxy when `ProxyEnable` is 1.
 * `ProxyServer` is `host:port` for every scheme or `http=host:port;https=host:port`; `ProxyOverride`'s
 * `*.example.org` becomes `.example.org` and `<local>` (names without a dot) becomes `localhost` and the
 * loopback addresses, the nearest that `NO_PROXY` can say; address wildcards such as `10.*` cannot be
 * said and are left out. A proxy auto-configuration script (`AutoConfigURL`) is not read.
 */
export function parseInternetSettings(regOutput: string): SystemProxy | undefined {
  const values = new Map<string, string>();
  for (const line of regOutput.split(/\r?\n/)) {
    const match = /^\s+(\S+)\s+REG_\w+\s+(.*?)\s*$/.exec(line);
    if (match) values.set(match[1]!.toLowerCase(), match[2]!);
  }
  if (Number(values.get('proxyenable') ?? '0') !== 1) return undefined;
  const server = values.get('proxyserver')?.trim();
  if (!server) return undefined;
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
  return { ...(https ? { https } : {}), ...(http ? { http } : {}), noProxy };
}

/** The proxy set in Windows' settings for this user; undefined elsewhere, or when none is set. */
export function systemProxy(platform: NodeJS.Platform = process.platform): SystemProxy | undefined {
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
