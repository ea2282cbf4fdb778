import { BlockList, isIP } from 'node:net';

/** Says whether a direct peer is one of the reverse proxies whose `X-Forwarded-For` is believed. */
export type ProxyMatcher = (address: string) => boolean;

/**
 * Parses `LIFELINE_TRUSTED_PROXIES`: addresses and CIDRs, IPv4 or IPv6. Returns the entries that are
 * not valid so the configuration can name them.
 *
 * @example
 * const { matcher, invalid } = trustedProxies(['10.0.0.0/8', '::1']);
 * matcher('10.1.2.3'); // true
 */
export function trustedProxies(entries: readonly string[]): { matcher: ProxyMatcher; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && !(bits <= maxBits))) {
      invalid.push(entry);
      continue;
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return {
    matcher: (address) => {
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
    invalid,
  };
}

/** `::ffff:192.0.2.1` is the IPv4 client 192.0.2.1 on a dual-stack socket. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/**
 * The client's address. `X-Forwarded-For` is read only when the direct peer is a trusted proxy, and
 * then from the right: each trusted proxy appends the address it saw, so the rightmost hop that is
 * not a trusted proxy is the first one nobody under our control vouches for. Anything to its left
 * was written by the client and is ignored.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  isTrusted: ProxyMatcher,
): string {
  if (peer === undefined) return 'local';
  const direct = unmapped(peer);
  if (!forwardedFor || !isTrusted(direct)) return direct;
  const hops = forwardedFor.split(',').map((hop) => unmapped(hop.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // A hop that is not an address means the header was mangled before it reached a trusted proxy.
    if (isIP(hop) === 0) return direct;
    if (!isTrusted(hop)) return hop;
  }
  // Every hop is one of ours: the leftmost is as far back as anyone we trust saw.
  return hops[0] ?? direct;
}

/** The eight 16-bit groups of an IPv6 address, expanded. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * The key a client is throttled under: its IPv4 address, or the /64 of its IPv6 address, since one
 * subscriber is routinely given a whole /64 and could otherwise step through addresses at will.
 *
 * @example
 * throttleKey('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 */
export function throttleKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const prefix = ipv6Groups(address.split('%')[0]!)
    .slice(0, 4)
    .map((group) => group.toString(16));
  return `${prefix.join(':')}::/64`;
}
