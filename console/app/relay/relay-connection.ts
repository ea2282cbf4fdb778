import { PROTOCOL_VERSION, RelayLink, type RelayLinkHandlers } from '../../../protocol/index.ts';
import type { RelayGrant } from '../api/types.ts';

/** Identifies the console in `hello`. */
export const CONSOLE_CLIENT = { name: 'lifeline-console', version: '0.1.0' } as const;

/**
 * The operator's one WebSocket to the relay, as a {@link RelayLink}: `hello` carries the relay token
 * (the token never goes into the URL), and everything else — the welcome timeout, decoding, the
 * heartbeat — is the link's.
 * Throws when the URL is not a WebSocket URL or the page may not open it (mixed content).
 * @example
 * const relay = connectToRelay(grant.relay, { onMessage, onVideo, onClose });
 * relay.send({ type: 'request-keyframe' });
 */
export function connectToRelay(grant: RelayGrant, handlers: RelayLinkHandlers): RelayLink {
  const url = new URL(grant.url, location.href);
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`The relay address must start with ws:// or wss://, not ${url.protocol}//.`);
  }
  return new RelayLink(new WebSocket(url), {
    ...handlers,
    hello: {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      role: 'operator',
      token: grant.token,
      client: { ...CONSOLE_CLIENT },
    },
  });
}
