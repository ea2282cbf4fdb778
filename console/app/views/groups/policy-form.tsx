import type { ComponentChildren, TargetedSubmitEvent } from 'preact';
import { useState } from 'preact/hooks';
import type { Policy } from '../../api/types.ts';
import { Notice } from '../common/notice.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { useAction } from '../hooks.ts';
import { IconShield } from '../icons.tsx';
import { AccessRuleFields, LimitField, ModeChoices, PolicySwitch } from './policy-fields.tsx';

/**
 * The policy's numbers, in minutes: their bounds as the control plane checks them, and how the form
 * shows each (`zero`: what 0 means, where it is allowed).
 */
const LIMITS = {
  codeLifetimeMinutes: {
    min: 1,
    max: 24 * 60,
    label: 'Code lifetime',
    hint: 'How long a connection code works.',
    testId: 'policy-code-lifetime',
  },
  idleTimeoutMinutes: {
    min: 0,
    max: 24 * 60,
    label: 'Idle timeout',
    hint: 'Ends a session without operator input. 0: never.',
    testId: 'policy-idle-timeout',
    zero: 'never',
  },
  maxSessionMinutes: {
    min: 0,
    max: 7 * 24 * 60,
    label: 'Maximum session length',
    hint: 'Ends a session after this long. 0: no limit.',
    testId: 'policy-max-session',
    zero: 'no limit',
  },
  invitationMaxMinutes: {
    min: 0,
    max: 7 * 24 * 60,
    label: 'Longest invitation',
    hint: 'How long an invitation a user creates may stay open. 0: no invitations.',
    testId: 'policy-invitation-max',
    zero: 'no invitations',
  },
} as const;
type LimitKey = keyof typeof LIMITS;

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
    const value = policy[key as LimitKey];
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
  const { busy, error, setError, run } = useAction();
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
    await run(async () => {
      setDraft(structuredClone(await onSave(draft)));
      setSaved(true);
    }, 'The policy could not be saved.');
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
            <PolicySwitch
              policy={draft}
              setting="consentRequired"
              testId="consent-required"
              label="Ask the user to accept"
              hint="Off only for kiosks and servers: sessions then start with the allowed modes at once."
              onChange={change}
            />
            <PolicySwitch
              policy={draft}
              setting="confirmIncomingFiles"
              testId="confirm-incoming-files"
              label="Ask the user about each incoming file"
              hint="The user accepts, renames or refuses every file an operator sends. Background access is never asked."
              onChange={change}
            />
            <PolicySwitch
              policy={draft}
              setting="filesAllRoots"
              testId="files-all-roots"
              label="Let the user open every drive"
              hint="The user may grant the file manager every drive or mount of the device, not only the shared folder."
              onChange={change}
            />
          </Section>

          <Section title="Unattended access" lead="Connecting to a device with nobody in front of it.">
            <AccessRuleFields
              kind="unattended"
              rule={draft.unattended}
              allowLabel="Allow unattended access"
              notifyHint="Show the user at the device a terminal naming the operator while an unattended session runs."
              onChange={(unattended) => change({ unattended })}
            />
          </Section>

          <Section
            title="Background access"
            lead="A shell and file manager without screen sharing, on unattended devices. Always audited."
          >
            <AccessRuleFields
              kind="background"
              rule={draft.backgroundAccess}
              allowLabel="Allow background access"
              notifyHint="Show the user a notice while someone works in the background."
              onChange={(backgroundAccess) => change({ backgroundAccess })}
            />
          </Section>

          <Section title="Tools and recording">
            <PolicySwitch
              policy={draft}
              setting="elevatedTools"
              testId="elevated-tools"
              label="Offer elevated tools"
              hint="Administrator tools in sessions of this group."
              onChange={change}
            />
            <PolicySwitch
              policy={draft}
              setting="recordingMandatory"
              testId="recording-mandatory"
              label="Recording is mandatory"
              hint="Sessions are recorded and cannot turn recording off."
              onChange={change}
            />
          </Section>

          <Section title="Limits">
            <div class="limit-grid">
              {(Object.keys(LIMITS) as LimitKey[]).map((key) => (
                <LimitField
                  key={key}
                  name={key}
                  {...LIMITS[key]}
                  value={draft[key]}
                  onChange={(value) => change({ [key]: value })}
                />
              ))}
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
