import type { PeerInfo } from '../../protocol/index.ts';
import { AgentError } from './errors.ts';

export interface Registration {
  sessionId: string;
  code: string;
  displayCode: string;
  codeExpiresAt: Date;
  relay: { url: string; token: string };
  /** The effective policy, signed; verify with `verifyPolicyToken` before trusting it. */
  policyToken: string | undefined;
}

/** Registers with the control plane (user-first flow) and receives a session, its code and a relay token. */
export async function register(serverUrl: string, info: PeerInfo): Promise<Registration> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/agent/register', serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(info),
    });
  } catch (error) {
    throw new AgentError('unreachable', `Cannot reach ${serverUrl}. Check the address and your network.`, {
      cause: error,
    });
  }
  const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!response.ok) {
    const detail = typeof body?.['detail'] === 'string' ? body['detail'] : `HTTP ${response.status}`;
    throw new AgentError('refused', `The server refused to register this agent: ${detail}`);
  }
  const relay = body?.['relay'] as { url?: unknown; token?: unknown } | undefined;
  if (
    typeof body?.['sessionId'] !== 'string' ||
    typeof body['code'] !== 'string' ||
    typeof body['displayCode'] !== 'string' ||
    typeof body['codeExpiresAt'] !== 'string' ||
    typeof relay?.url !== 'string' ||
    typeof relay.token !== 'string'
  ) {
    throw new AgentError(
      'protocol',
      'The server answered in an unexpected format. Is this a Lifeline server?',
    );
  }
  return {
    sessionId: body['sessionId'],
    code: body['code'],
    displayCode: body['displayCode'],
    codeExpiresAt: new Date(body['codeExpiresAt']),
    relay: { url: relay.url, token: relay.token },
    policyToken: typeof body['policyToken'] === 'string' ? body['policyToken'] : undefined,
  };
}
