import { useEffect, useRef, useState } from 'preact/hooks';
import { logout } from '../api/auth.ts';
import type { Identity, SessionView as Session, SessionGrant } from '../api/types.ts';
import { type Location, mayOpen, type Page } from '../navigation.ts';
import { InviteController } from '../session/invite-controller.ts';
import { AccountPage } from './account/account-page.tsx';
import { AppHeader } from './app-header.tsx';
import { ArrivalBar } from './arrival-bar.tsx';
import { AuditPage } from './audit/audit-page.tsx';
import { DashboardView } from './dashboard-view.tsx';
import { DevicesPage } from './devices/devices-page.tsx';
import { GroupsPage } from './groups/groups-page.tsx';
import { useBodyView, useHashLocation } from './hooks.ts';
import { OperatorsPage } from './operators/operators-page.tsx';
import { SessionView } from './session-view.tsx';
import { TokensPage } from './tokens/tokens-page.tsx';

export interface ConsoleShellProps {
  identity: Identity;
  /** The operator's account changed (for example the second factor was turned on). */
  onIdentity(identity: Identity): void;
  onSignedOut(): void;
}

/**
 * The signed-in console: the header with its navigation, the page the URL names, and the live
 * session view on top when the operator is in a session. It owns the operator-first invitation, so
 * the wait for the user's agent goes on while the operator looks at other pages.
 */
export function ConsoleShell({ identity, onIdentity, onSignedOut }: ConsoleShellProps) {
  const [location, navigate] = useHashLocation();
  const [live, setLive] = useState<SessionGrant | null>(null);
  const [invite, setInvite] = useState<InviteController | null>(null);
  const [inviteNotice, setInviteNotice] = useState<string | null>(null);
  // The invited user's device connected while the operator was in another session.
  const [arrived, setArrived] = useState<Session | null>(null);
  const liveNow = useRef(live);
  liveNow.current = live;
  const { scopes } = identity;
  const page: Page = mayOpen(location.page, scopes) ? location.page : 'sessions';

  // Stops the wait when the invitation is replaced or closed, and on sign-out.
  useEffect(() => () => invite?.dispose(), [invite]);
  useBodyView(live ? 'session' : page === 'sessions' ? 'dashboard' : page);

  const go = (next: Location) => {
    setLive(null);
    navigate(next);
  };

  const startInvite = async (deviceGroupId: string | undefined) => {
    setInviteNotice(null);
    const controller = await InviteController.create(deviceGroupId, {
      onJoined: (grant) => {
        setInvite(null);
        // Never pull the operator out of a session they are in; offer the new one instead.
        if (liveNow.current) setArrived(grant.session);
        else setLive(grant);
      },
      onCancelled: () => {
        setInvite(null);
        setInviteNotice('Session cancelled. Its code and download links no longer work.');
      },
    });
    setInvite(controller);
  };

  const signOut = async () => {
    try {
      await logout();
    } finally {
      // Whoever signs in next starts on the dashboard; an expired sign-in keeps its page instead.
      navigate({ page: 'sessions', params: {} });
      onSignedOut();
    }
  };

  return (
    <div class="shell">
      <AppHeader
        operator={identity.operator}
        scopes={scopes}
        current={live ? 'sessions' : page}
        onNavigate={(target) => go({ page: target, params: {} })}
        onSignOut={() => void signOut()}
      />
      {arrived && (
        <ArrivalBar
          session={arrived}
          onOpen={(grant) => {
            setArrived(null);
            setLive(grant);
          }}
          onDismiss={() => setArrived(null)}
        />
      )}
      {live ? (
        <SessionView key={live.session.id} grant={live} identity={identity} onLeave={() => setLive(null)} />
      ) : (
        <PageContent
          page={page}
          location={location}
          identity={identity}
          onIdentity={onIdentity}
          navigate={go}
          invite={invite}
          inviteNotice={inviteNotice}
          onStartInvite={startInvite}
          onDismissInvite={() => setInvite(null)}
          onJoined={setLive}
        />
      )}
    </div>
  );
}

interface PageContentProps {
  page: Page;
  location: Location;
  identity: Identity;
  onIdentity(identity: Identity): void;
  navigate(next: Location): void;
  invite: InviteController | null;
  inviteNotice: string | null;
  onStartInvite(deviceGroupId: string | undefined): Promise<void>;
  onDismissInvite(): void;
  onJoined(grant: SessionGrant): void;
}

function PageContent(props: PageContentProps) {
  const { identity } = props;
  switch (props.page) {
    case 'sessions':
      return (
        <DashboardView
          identity={identity}
          invitationId={props.location.params['invitation']}
          onCloseInvitation={() => props.navigate({ page: 'sessions', params: {} })}
          onJoined={(grant) => {
            // An opened invitation is done: leaving the session comes back to the ordinary dashboard.
            if (props.location.params['invitation']) props.navigate({ page: 'sessions', params: {} });
            props.onJoined(grant);
          }}
          invite={props.invite}
          inviteNotice={props.inviteNotice}
          onStartInvite={props.onStartInvite}
          onDismissInvite={props.onDismissInvite}
          onOpenAudit={(sessionId) => props.navigate({ page: 'audit', params: { session: sessionId } })}
        />
      );
    case 'devices':
      return <DevicesPage identity={identity} onJoined={props.onJoined} />;
    case 'groups':
      return <GroupsPage identity={identity} />;
    case 'operators':
      return <OperatorsPage identity={identity} />;
    case 'tokens':
      return <TokensPage identity={identity} />;
    case 'audit':
      return (
        <AuditPage
          key={props.location.params['session'] ?? ''}
          identity={identity}
          initialSessionId={props.location.params['session'] ?? ''}
          initialAction={props.location.params['action'] ?? ''}
        />
      );
    case 'account':
      return <AccountPage identity={identity} onIdentity={props.onIdentity} />;
  }
}
