import { joinSession } from '../api/sessions.ts';
import type { SessionGrant, SessionView } from '../api/types.ts';
import { peerLabel } from '../session/describe.ts';
import { BusyButton } from './common/fields.tsx';
import { useAction } from './hooks.ts';

export interface ArrivalBarProps {
  session: SessionView;
  onOpen(grant: SessionGrant): void;
  onDismiss(): void;
}

/**
 * Says that the user of an invitation connected while the operator was busy in another session,
 * with a button to switch over (a fresh join: relay grants only live a minute).
 */
export function ArrivalBar({ session, onOpen, onDismiss }: ArrivalBarProps) {
  const { busy, error, run } = useAction();
  const open = () =>
    run(async () => onOpen(await joinSession(session.id)), 'The session could not be opened.');
  return (
    <div class="arrival-bar" role="status" data-testid="invite-arrived">
      <span class="arrival-bar__text">
        {session.agent ? peerLabel(session.agent) : 'The user you invited'} connected to your invitation.
        {error && <span class="arrival-bar__error"> {error}</span>}
      </span>
      <BusyButton
        class="btn--primary btn--small"
        busy={busy}
        busyLabel="Opening…"
        testId="open-arrived"
        onClick={() => void open()}
      >
        Switch to that session
      </BusyButton>
      <button type="button" class="btn btn--dark btn--small" onClick={onDismiss}>
        Later
      </button>
    </div>
  );
}
