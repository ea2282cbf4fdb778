import { useState } from 'preact/hooks';
import { issueRegistrationKey } from '../../api/groups.ts';
import type { DeviceGroup } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { BusyButton } from '../common/fields.tsx';
import { SecretOnce } from '../common/secret-once.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconKey } from '../icons.tsx';

export interface RegistrationKeyCardProps {
  group: DeviceGroup;
  canWrite: boolean;
  onIssued(group: DeviceGroup): void;
}

/** The group's registration key: whether one exists, and issuing a new one (shown once). */
export function RegistrationKeyCard({ group, canWrite, onIssued }: RegistrationKeyCardProps) {
  const [key, setKey] = useState<string | null>(null);
  const { busy, error, run } = useAction();

  const issue = async () => {
    await run(async () => {
      setKey(await issueRegistrationKey(group.id));
      onIssued({ ...group, hasRegistrationKey: true });
    }, 'No key could be issued.');
  };

  return (
    <section class="card" aria-labelledby="registration-key-title">
      <h3 id="registration-key-title" class="section-title">
        <IconKey size={16} /> Registration key
      </h3>
      <p class="section-lead">
        Agents started with this key join this group, for example unattended devices set up by an
        administrator. {group.hasRegistrationKey ? 'A key has been issued; ' : 'No key has been issued yet; '}
        issuing a new one makes the previous key stop working.
      </p>
      {key && <SecretOnce title="New registration key" value={key} testId="registration-key" />}
      {canWrite && !key && (
        <div class="form-actions">
          {group.hasRegistrationKey ? (
            <ConfirmButton
              testId="issue-registration-key"
              confirmLabel="Replace the current key?"
              disabled={busy}
              onConfirm={() => void issue()}
            >
              Issue a new key
            </ConfirmButton>
          ) : (
            <BusyButton
              class="btn--secondary btn--small"
              busy={busy}
              busyLabel="Issuing…"
              testId="issue-registration-key"
              onClick={() => void issue()}
            >
              Issue a key
            </BusyButton>
          )}
        </div>
      )}
      {error && <ErrorBanner message={error} />}
    </section>
  );
}
