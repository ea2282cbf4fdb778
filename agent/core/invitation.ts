import {
  agentInvitationSchema,
  INVITATION_PASSWORD_MAX_CHARS,
  INVITATION_PASSWORD_MIN_CHARS,
  type InvitationFile,
} from '../../protocol/api/invitations.ts';
import type { PeerInfo } from '../../protocol/index.ts';
import { postToControlPlane, refusalDetail } from './control-plane-call.ts';
import { AgentError } from './errors.ts';
import type { Attachment } from './join.ts';

/** An invitation the control plane made: the session to attach to, and what the helper is sent. */
export interface Invitation {
  attachment: Attachment;
  /** Opens the invitation in the console; it carries no secret. */
  link: string;
  expiresAt: Date;
}

/** The answer to asking for an invitation: one, or what to tell the user (too long, not allowed). */
export type InvitationResult = { ok: true; invitation: Invitation } | { ok: false; message: string };

/** Why a password cannot be an invitation's, or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < INVITATION_PASSWORD_MIN_CHARS)
    return `The password needs at least ${INVITATION_PASSWORD_MIN_CHARS} characters.`;
  if (password.length > INVITATION_PASSWORD_MAX_CHARS)
    return `The password may have at most ${INVITATION_PASSWORD_MAX_CHARS} characters.`;
  return undefined;
}

/**
 * User first, without a code: the end user invites a helper with a link and a password they set
 * (`POST /api/agent/invitations`). The password goes only in this request's body, over the agent's
 * connection to its server, which keeps a slow hash of it. A refusal the user can act on (an expiry
 * past the policy's maximum, invitations not allowed) comes back as a message; only transport
 * failures and unexpected answers throw.
 */
export async function createInvitation(
  serverUrl: string,
  info: PeerInfo,
  choice: { expiresInMinutes: number; password: string },
): Promise<InvitationResult> {
  const answer = await postToControlPlane(
    serverUrl,
    '/api/agent/invitations',
    { ...info, ...choice },
    agentInvitationSchema,
  );
  if (!answer.ok) {
    const code = answer.problem?.code;
    if (code === 'VALIDATION_FAILED' || code === 'POLICY_FORBIDS' || code === 'TOO_FREQUENT')
      return { ok: false, message: refusalDetail(answer) };
    throw new AgentError('refused', `The server refused the invitation: ${refusalDetail(answer)}`);
  }
  const { sessionId, relay, policyToken, link, expiresAt } = answer.body;
  return {
    ok: true,
    invitation: {
      attachment: { sessionId, relay: { url: relay.url, token: relay.token }, policyToken },
      link,
      expiresAt: new Date(expiresAt),
    },
  };
}

/** The small invitation file's content: the link and its expiry, never the password. */
export function invitationFile(invitation: Invitation): InvitationFile {
  return {
    lifeline: 'invitation',
    version: 1,
    link: invitation.link,
    expiresAt: invitation.expiresAt.toISOString(),
  };
}
