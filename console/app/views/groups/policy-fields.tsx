import type { ComponentChildren } from 'preact';
import type { Policy, Role } from '../../api/types.ts';
import { formatMinutes } from '../../format/time.ts';
import { SwitchField } from '../common/switch-field.tsx';

export type Modes = Policy['modes'];
export type Mode = keyof Modes;

const MODE_LABELS: ReadonlyArray<{ mode: Mode; label: string; hint: string }> = [
  { mode: 'view', label: 'View screen', hint: 'See the screen' },
  { mode: 'control', label: 'Control', hint: 'Mouse and keyboard' },
  { mode: 'guidance', label: 'Guidance', hint: "Pointer and marks on the user's screen, no input" },
  { mode: 'chat', label: 'Chat', hint: 'Messages with the user' },
  { mode: 'files', label: 'Files', hint: 'Transfer files' },
  { mode: 'shell', label: 'Shell', hint: 'Run commands' },
  { mode: 'clipboard', label: 'Clipboard', hint: 'Copy and paste text both ways' },
];

/** The session modes as a row of chips to switch on and off (`policy-mode-<mode>`). */
export function ModeChoices({ modes, onChange }: { modes: Modes; onChange(modes: Modes): void }) {
  return (
    <div class="choice-tiles">
      {MODE_LABELS.map(({ mode, label, hint }) => (
        <label key={mode} class={`choice-tile${modes[mode] ? ' choice-tile--on' : ''}`} title={hint}>
          <input
            type="checkbox"
            name={`mode-${mode}`}
            data-testid={`policy-mode-${mode}`}
            checked={modes[mode]}
            onChange={(event) => onChange({ ...modes, [mode]: event.currentTarget.checked })}
          />
          {label}
        </label>
      ))}
    </div>
  );
}

/** Roles that may reach devices; auditors never do, so they are not offered. */
const DEVICE_ROLES: ReadonlyArray<{ role: Role; label: string }> = [
  { role: 'admin', label: 'Administrators' },
  { role: 'manager', label: 'Managers' },
  { role: 'technician', label: 'Technicians' },
];

/** Which roles an access kind is open to (`<testId>-<role>`). Roles not offered are kept as they are. */
export function RoleChoices({
  roles,
  onChange,
  disabled,
  testId,
  label,
}: {
  roles: Role[];
  onChange(roles: Role[]): void;
  disabled: boolean;
  testId: string;
  label: string;
}) {
  return (
    <fieldset class="role-choices" disabled={disabled}>
      <legend class="role-choices__legend">{label}</legend>
      {DEVICE_ROLES.map(({ role, label: roleLabel }) => (
        <label key={role} class="check">
          <input
            type="checkbox"
            name={`${testId}-${role}`}
            data-testid={`${testId}-${role}`}
            checked={roles.includes(role)}
            onChange={(event) =>
              onChange(
                event.currentTarget.checked ? [...roles, role] : roles.filter((other) => other !== role),
              )
            }
          />
          {roleLabel}
        </label>
      ))}
    </fieldset>
  );
}

export interface LimitFieldProps {
  label: string;
  hint: ComponentChildren;
  name: string;
  testId: string;
  value: number;
  min: number;
  max: number;
  /** What 0 means, when 0 is allowed. */
  zero?: string;
  onChange(value: number): void;
}

/** A number of minutes with its unit and, beside it, what it amounts to (`8 h`, `no limit`). */
export function LimitField({ label, hint, name, testId, value, min, max, zero, onChange }: LimitFieldProps) {
  const valid = Number.isInteger(value) && value >= min && value <= max;
  return (
    <label class="field limit-field">
      <span class="field__label">{label}</span>
      <span class="limit-field__row">
        <input
          class={`input limit-field__input${valid ? '' : ' input--invalid'}`}
          type="number"
          inputMode="numeric"
          name={name}
          data-testid={testId}
          min={min}
          max={max}
          step={1}
          value={Number.isNaN(value) ? '' : value}
          aria-invalid={!valid}
          onInput={(event) => onChange(Number.parseInt(event.currentTarget.value, 10))}
        />
        <span class="limit-field__unit">min</span>
        {/* Worth saying only where it reads differently from the number: hours, never, no limit. */}
        {(!valid || value === 0 || value >= 60) && (
          <span class="limit-field__said">{valid ? formatMinutes(value, zero) : `${min}–${max}`}</span>
        )}
      </span>
      <span class="field__hint">{hint}</span>
    </label>
  );
}

/** The policy's settings that are simply on or off. */
export type PolicySwitchKey = {
  [K in keyof Policy]: Policy[K] extends boolean ? K : never;
}[keyof Policy];

/** One on/off setting of the policy as a switch, named after its key (`name`, `policy-<testId>`). */
export function PolicySwitch({
  policy,
  setting,
  testId,
  label,
  hint,
  onChange,
}: {
  policy: Policy;
  setting: PolicySwitchKey;
  testId: string;
  label: string;
  hint: string;
  onChange(patch: Partial<Policy>): void;
}) {
  return (
    <SwitchField
      name={setting}
      testId={`policy-${testId}`}
      label={label}
      hint={hint}
      checked={policy[setting]}
      onChange={(checked) => onChange({ [setting]: checked })}
    />
  );
}

/** An access kind's rule: whether it is allowed, for which roles, and whether the user is told. */
export type AccessRule = Policy['unattended'];

/**
 * The switches and roles of one access kind (`unattended`, `background`): `<kind>Allowed` and
 * `<kind>Notify` by name, `policy-<kind>-allowed`, `-role-<role>` and `-notify` by test id; roles and
 * notice only count, and can only be changed, while the kind is allowed.
 */
export function AccessRuleFields({
  kind,
  rule,
  allowLabel,
  notifyHint,
  onChange,
}: {
  kind: 'unattended' | 'background';
  rule: AccessRule;
  allowLabel: string;
  notifyHint: string;
  onChange(rule: AccessRule): void;
}) {
  return (
    <>
      <SwitchField
        name={`${kind}Allowed`}
        testId={`policy-${kind}-allowed`}
        label={allowLabel}
        checked={rule.allowed}
        onChange={(allowed) => onChange({ ...rule, allowed })}
      />
      <RoleChoices
        label="For"
        testId={`policy-${kind}-role`}
        roles={rule.roles}
        disabled={!rule.allowed}
        onChange={(roles) => onChange({ ...rule, roles })}
      />
      <SwitchField
        name={`${kind}Notify`}
        testId={`policy-${kind}-notify`}
        label="Notify the user"
        hint={notifyHint}
        checked={rule.notifyUser}
        disabled={!rule.allowed}
        onChange={(notifyUser) => onChange({ ...rule, notifyUser })}
      />
    </>
  );
}
