import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createContext, runInContext } from 'node:vm';

/** How long one run of a PAC script (loading it, or one `FindProxyForURL` call) may take, in ms. */
const PAC_RUN_MS = 1000;

/** What a PAC script says for one URL, in order of preference: an http proxy, or null for direct. */
export type PacRoute = URL | null;

/** A PAC script that cannot be used: it does not load, has no `FindProxyForURL`, or fails or loops in it. */
export class PacScriptError extends Error {
  override readonly name = 'PacScriptError';
}

/**
 * Reads `FindProxyForURL`'s answer (`PROXY host:port; DIRECT`) as the routes to try in order. Only
 * what the agent can use is kept: `PROXY` (and `HTTP`) entries and `DIRECT`; `SOCKS` and `HTTPS`
 * proxies are left out. An answer with nothing usable is direct, as browsers take an empty one.
 * @example
 * pacRoutes('PROXY proxy.corp:3128; DIRECT') // [URL('http://proxy.corp:3128'), null]
 */
export function pacRoutes(answer: string): PacRoute[] {
  const routes: PacRoute[] = [];
  for (const entry of answer.split(';')) {
    const [kind = '', address = ''] = entry.trim().split(/\s+/);
    const keyword = kind.toUpperCase();
    if (keyword === 'DIRECT') routes.push(null);
    else if ((keyword === 'PROXY' || keyword === 'HTTP') && URL.canParse(`http://${address}`)) {
      const url = new URL(`http://${address}`);
      if (url.hostname && !url.pathname.replace('/', '')) routes.push(url);
    }
  }
  return routes.length > 0 ? routes : [null];
}

/** A dotted IPv4 address as a 32-bit number. */
function ipv4(address: string): number | undefined {
  if (isIP(address) !== 4) return undefined;
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** The first address of this computer that is not loopback: what `myIpAddress` gives. */
function myIpAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}

/** A shell glob (`*`, `?`) as a whole-string regular expression, for `shExpMatch`. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * The standard PAC helper functions. Name resolution is synchronous in PAC and cannot be in Node,
 * so `dnsResolve` answers for addresses and `localhost` only (null otherwise) and `isResolvable`
 * accordingly; a script that routes by the address a name resolves to falls through to its default.
 */
function pacHelpers(now: () => Date): Record<string, unknown> {
  const resolve = (host: string): string | null =>
    isIP(host) ? host : host.toLowerCase() === 'localhost' ? '127.0.0.1' : null;
  const inRange = (value: number, from: number, to: number) =>
    from <= to ? value >= from && value <= to : value >= from || value <= to;
  return {
    isPlainHostName: (host: string) => !String(host).includes('.'),
    dnsDomainIs: (host: string, domain: string) =>
      String(host).toLowerCase().endsWith(String(domain).toLowerCase()),
    localHostOrDomainIs: (host: string, full: string) => {
      const name = String(host).toLowerCase();
      const whole = String(full).toLowerCase();
      return name === whole || (!name.includes('.') && whole.startsWith(`${name}.`));
    },
    isResolvable: (host: string) => resolve(String(host)) !== null,
    dnsResolve: (host: string) => resolve(String(host)),
    isInNet: (host: string, pattern: string, mask: string) => {
      const address = ipv4(resolve(String(host)) ?? '');
      const net = ipv4(String(pattern));
      const bits = ipv4(String(mask));
      if (address === undefined || net === undefined || bits === undefined) return false;
      // Unsigned 32-bit arithmetic: `&` works on signed integers.
      return (address & bits) >>> 0 === (net & bits) >>> 0;
    },
    myIpAddress,
    dnsDomainLevels: (host: string) => String(host).split('.').length - 1,
    shExpMatch: (text: string, glob: string) => globRegExp(String(glob)).test(String(text)),
    weekdayRange: (from: string, to?: string, gmt?: string) => {
      const date = now();
      const gmtOnly = to === 'GMT' || gmt === 'GMT';
      const day = gmtOnly ? date.getUTCDay() : date.getDay();
      const first = DAYS.indexOf(String(from).toUpperCase());
      const last = to && to !== 'GMT' ? DAYS.indexOf(String(to).toUpperCase()) : first;
      return first >= 0 && last >= 0 && inRange(day, first, last);
    },
    timeRange: (...args: unknown[]) => {
      const gmtOnly = args.at(-1) === 'GMT';
      const hours = args.filter((arg) => arg !== 'GMT').map(Number);
      const date = now();
      const hour = gmtOnly ? date.getUTCHours() : date.getHours();
      if (hours.length === 1) return hour === hours[0];
      if (hours.length === 2) return inRange(hour, hours[0]!, hours[1]! - (hours[1]! > hours[0]! ? 1 : 0));
      return false;
    },
    // Date ranges are rare in PAC files; this agent does not route by them.
    dateRange: () => false,
    alert: () => undefined,
  };
}

/**
 * A proxy auto-configuration script (PAC) loaded into a sandbox of its own (a `node:vm` context
 * without `eval` or WebAssembly, with the standard helpers and nothing of Node), each run bounded to
 * PAC_RUN_MS so a script that loops cannot hold the agent.
 * @example
 * const pac = new PacScript('function FindProxyForURL(url, host) { return "PROXY p:3128; DIRECT"; }');
 * pac.routesFor(new URL('https://help.example.org/')) // [URL('http://p:3128'), null]
 */
export class PacScript {
  readonly #context: ReturnType<typeof createContext>;

  constructor(source: string, now: () => Date = () => new Date()) {
    this.#context = createContext(pacHelpers(now), {
      name: 'proxy auto-configuration',
      codeGeneration: { strings: false, wasm: false },
    });
    try {
      runInContext(source, this.#context, { timeout: PAC_RUN_MS });
    } catch (error) {
      throw new PacScriptError(`The proxy auto-configuration script does not load: ${String(error)}`, {
        cause: error,
      });
    }
    if (runInContext('typeof FindProxyForURL', this.#context) !== 'function')
      throw new PacScriptError('The proxy auto-configuration script has no FindProxyForURL function.');
  }

  /** The routes the script gives for `target`, in order; it sees the URL without its path for https. */
  routesFor(target: URL): PacRoute[] {
    const secure = target.protocol === 'https:' || target.protocol === 'wss:';
    // Browsers hand a PAC script only the origin of an https URL: its path is private.
    const url = secure ? `${target.protocol}//${target.host}/` : target.href;
    this.#context['__url'] = url;
    this.#context['__host'] = target.hostname.replace(/^\[|\]$/g, '');
    let answer: unknown;
    try {
      answer = runInContext('FindProxyForURL(__url, __host)', this.#context, { timeout: PAC_RUN_MS });
    } catch (error) {
      throw new PacScriptError(`The proxy auto-configuration script failed: ${String(error)}`, {
        cause: error,
      });
    }
    return pacRoutes(typeof answer === 'string' ? answer : '');
  }
}
