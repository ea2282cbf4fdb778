import { can } from '../api/scopes.ts';
import { joinSession } from '../api/sessions.ts';
import type { Identity, SessionGrant } from '../api/types.ts';
import type { InviteController } from '../session/invite-controller.ts';
import { ConnectCard } from './connect-card.tsx';
import { InvitationCard } from './invitation-card.tsx';
import { InviteCard } from './invite/invite-card.tsx';
import { SessionsList } from './sessions-list.tsx';

export interface DashboardViewProps {
  identity: Identity;
  onJoined(grant: SessionGrant): void;
  /** The operator-first session waiting for its user, if any. */
  invite: InviteController | null;
  inviteNotice: string | null;
  onStartInvite(deviceGroupId: string | undefined): Promise<void>;
  onDismissInvite(): void;
  onOpenAudit(sessionId: string): void;
  /** An end user's invitation opened from its link, shown instead of the code card. */
  invitationId?: string | undefined;
  onCloseInvitation(): void;
}

/**
 * The operator's home: connect with a code the user reads out, or invite a user with a code and a
 * download link; and the sessions, running and past.
 */
export function DashboardView(props: DashboardViewProps) {
  const { scopes } = props.identity;
  const canStart = can(scopes, 'sessions:write');
  return (
    <main class={`dashboard${canStart ? '' : ' dashboard--read-only'}`}>
      {canStart && (
        <div class={`dashboard__start${props.invite ? ' dashboard__start--inviting' : ''}`}>
          {props.invitationId ? (
            <InvitationCard
              id={props.invitationId}
              onJoined={props.onJoined}
              onClose={props.onCloseInvitation}
            />
          ) : (
            <ConnectCard onJoined={props.onJoined} />
          )}
          <InviteCard
            identity={props.identity}
            invite={props.invite}
            notice={props.inviteNotice}
            onStart={props.onStartInvite}
            onDismiss={props.onDismissInvite}
          />
        </div>
      )}
      <SessionsList
        canJoin={canStart}
        operatorId={props.identity.operator.id}
        canAudit={can(scopes, 'audit:read')}
        onRejoin={async (sessionId) => props.onJoined(await joinSession(sessionId))}
        onOpenAudit={props.onOpenAudit}
      />
    </main>
  );
}
