import type { ComponentChildren, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import { errorText } from '../../api/client.ts';
import type { Policy } from '../../api/types.ts';
import { Notice } from '../common/notice.tsx';
import { SwitchField } from '../common/switch-field.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { IconShield } from '../icons.tsx';
import { LimitField, ModeChoices, RoleChoices } from './policy-fields.tsx';

/** The bounds of the policy's numbers, as the control plane checks them, in minutes. */
const LIMITS = {
  codeLifetimeMinutes: { min: 1, max: 24 * 60 },
  idleTimeoutMinutes: { min: 0, max: 24 * 60 },
  maxSessionMinutes: { min: 0, max: 7 * 24 * 60 },
  invitationMaxMinutes: { min: 0, max: 7 * 24 * 60 },
} as const;

export interface PolicyFormProps {
  policy: Policy;
  readOnly: boolean;
  /** Saves and resolves with the policy as the server now holds it. */
  onSave(policy: Policy): Promise<Policy>;
}

function Section({ title, lead, children }: { title: string; lead?: string; children: ComponentChildren }) {
  return (
    <div class="form-section">
      <div class="form-section__intro">
        <h4 class="form-section__title">{title}</h4>
        {lead && <p class="form-section__lead">{lead}</p>}
      </div>
      <div class="form-section__body">{children}</div>
    </div>
  );
}

/** What is wrong with the numbers, or null. */
function problemOf(policy: Policy): string | null {
  for (const [key, { min, max }] of Object.entries(LIMITS)) {
    const value = policy[key as keyof typeof LIMITS];
    if (!Number.isInteger(value) || value < min || value > max) {
      return `Check the limits: each is a whole number of minutes from ${min} to ${max}.`;
    }
  }
  return null;
}

/**
 * A group's policy as a form (`[data-testid=policy-form]`): modes, consent, unattended and background
 * access with their roles, elevated tools, recording and the time limits. Saving replaces the policy
 * (`PUT /api/groups/{id}/policy`); sessions created afterwards get it.
 */
export function PolicyForm({ policy, readOnly, onSave }: PolicyFormProps) {
  const [draft, setDraft] = useState<Policy>(() => structuredClone(policy));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const dirty = JSON.stringify(draft) !== JSON.stringify(policy);

  const change = (patch: Partial<Policy>) => {
    setDraft((before) => ({ ...before, ...patch }));
    setSaved(false);
  };

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy || readOnly) return;
    const problem = problemOf(draft);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setDraft(structuredClone(await onSave(draft)));
      setSaved(true);
    } catch (caught) {
      setError(errorText(caught, 'The policy could not be saved.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="policy-title">
      <h3 id="policy-title" class="section-title">
        <IconShield size={16} /> Policy
      </h3>
      <p class="section-lead">
        Signed into every session of this group; the agent enforces it, so neither the console nor the relay
        can widen it. Changes apply to sessions created from now on and are recorded in the audit log.
      </p>
      <form class="policy-form" data-testid="policy-form" onSubmit={submit} noValidate>
        <fieldset class="policy-form__fields" disabled={readOnly || busy}>
          <Section
            title="Session modes"
            lead="What operators may ask for. The user still decides in each session."
          >
            <ModeChoices modes={draft.modes} onChange={(modes) => change({ modes })} />
          </Section>

          <Section title="Consent">
            <SwitchField
              name="consentRequired"
              testId="policy-consent-required"
              label="Ask the user to accept"
              hint="Off only for kiosks and servers: sessions then start with the allowed modes at once."
              checked={draft.consentRequired}
              onChange={(consentRequired) => change({ consentRequired })}
            />
            <SwitchField
              name="confirmIncomingFiles"
              testId="policy-confirm-incoming-files"
              label="Ask the user about each incoming file"
              hint="The user accepts, renames or refuses every file an operator sends. Background access is never asked."
              checked={draft.confirmIncomingFiles}
              onChange={(confirmIncomingFiles) => change({ confirmIncomingFiles })}
            />
          </Section>

          <Section title="Unattended access" lead="Connecting to a device with nobody in front of it.">
            <SwitchField
              name="unattendedAllowed"
              testId="policy-unattended-allowed"
              label="Allow unattended access"
              checked={draft.unattended.allowed}
              onChange={(allowed) => change({ unattended: { ...draft.unattended, allowed } })}
            />
            <RoleChoices
              label="For"
              testId="policy-unattended-role"
              roles={draft.unattended.roles}
              disabled={!draft.unattended.allowed}
              onChange={(roles) => change({ unattended: { ...draft.unattended, roles } })}
            />
            <SwitchField
              name="unattendedNotify"
              testId="policy-unattended-notify"
              label="Notify the user"
              hint="Show the user at the device a terminal naming the operator while an unattended session runs."
              checked={draft.unattended.notifyUser}
              disabled={!draft.unattended.allowed}
              onChange={(notifyUser) => change({ unattended: { ...draft.unattended, notifyUser } })}
            />
          </Section>

          <Section
            title="Background access"
            lead="A shell and file manager without screen sharing, on unattended devices. Always audited."
          >
            <SwitchField
              name="backgroundAllowed"
              testId="policy-background-allowed"
              label="Allow background access"
              checked={draft.backgroundAccess.allowed}
              onChange={(allowed) => change({ backgroundAccess: { ...draft.backgroundAccess, allowed } })}
            />
            <RoleChoices
              label="For"
              testId="policy-background-role"
              roles={draft.backgroundAccess.roles}
              disabled={!draft.backgroundAccess.allowed}
              onChange={(roles) => change({ backgroundAccess: { ...draft.backgroundAccess, roles } })}
            />
            <SwitchField
              name="backgroundNotify"
              testId="policy-background-notify"
              label="Notify the user"
              hint="Show the user a notice while someone works in the background."
              checked={draft.backgroundAccess.notifyUser}
              disabled={!draft.backgroundAccess.allowed}
              onChange={(notifyUser) =>
                change({ backgroundAccess: { ...draft.backgroundAccess, notifyUser } })
              }
            />
          </Section>

          <Section title="Tools and recording">
            <SwitchField
              name="elevatedTools"
              testId="policy-elevated-tools"
              label="Offer elevated tools"
              hint="Administrator tools in sessions of this group."
              checked={draft.elevatedTools}
              onChange={(elevatedTools) => change({ elevatedTools })}
            />
            <SwitchField
              name="recordingMandatory"
              testId="policy-recording-mandatory"
              label="Recording is mandatory"
              hint="Sessions are recorded and cannot turn recording off."
              checked={draft.recordingMandatory}
              onChange={(recordingMandatory) => change({ recordingMandatory })}
            />
          </Section>

          <Section title="Limits">
            <div class="limit-grid">
              <LimitField
                label="Code lifetime"
                hint="How long a connection code works."
                name="codeLifetimeMinutes"
                testId="policy-code-lifetime"
                value={draft.codeLifetimeMinutes}
                {...LIMITS.codeLifetimeMinutes}
                onChange={(codeLifetimeMinutes) => change({ codeLifetimeMinutes })}
              />
              <LimitField
                label="Idle timeout"
                hint="Ends a session without operator input. 0: never."
                name="idleTimeoutMinutes"
                testId="policy-idle-timeout"
                value={draft.idleTimeoutMinutes}
                zero="never"
                {...LIMITS.idleTimeoutMinutes}
                onChange={(idleTimeoutMinutes) => change({ idleTimeoutMinutes })}
              />
              <LimitField
                label="Maximum session length"
                hint="Ends a session after this long. 0: no limit."
                name="maxSessionMinutes"
                testId="policy-max-session"
                value={draft.maxSessionMinutes}
                zero="no limit"
                {...LIMITS.maxSessionMinutes}
                onChange={(maxSessionMinutes) => change({ maxSessionMinutes })}
              />
              <LimitField
                label="Longest invitation"
                hint="How long an invitation a user creates may stay open. 0: no invitations."
                name="invitationMaxMinutes"
                testId="policy-invitation-max"
                value={draft.invitationMaxMinutes}
                zero="no invitations"
                {...LIMITS.invitationMaxMinutes}
                onChange={(invitationMaxMinutes) => change({ invitationMaxMinutes })}
              />
            </div>
          </Section>
        </fieldset>

        {error && <ErrorBanner message={error} />}
        {saved && !dirty && (
          <Notice testId="policy-saved">Policy saved. New sessions of this group get it.</Notice>
        )}
        {!readOnly && (
          <div class={`form-actions form-actions--bar${dirty ? ' form-actions--sticky' : ''}`}>
            <span class="form-actions__state">{dirty ? 'Unsaved changes' : 'No changes'}</span>
            <button
              type="button"
              class="btn btn--secondary"
              disabled={!dirty || busy}
              data-testid="discard-policy"
              onClick={() => {
                setDraft(structuredClone(policy));
                setError(null);
              }}
            >
              Discard
            </button>
            <button
              type="submit"
              class="btn btn--primary"
              data-testid="save-policy"
              disabled={!dirty || busy}
            >
              {busy ? 'Saving…' : 'Save policy'}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
