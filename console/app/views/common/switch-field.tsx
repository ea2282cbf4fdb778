import type { ComponentChildren } from 'preact';

export interface SwitchFieldProps {
  label: ComponentChildren;
  hint?: ComponentChildren;
  checked: boolean;
  onChange(checked: boolean): void;
  name: string;
  testId?: string;
  disabled?: boolean;
}

/** An on/off setting: a checkbox drawn as a switch, with its label and a line of explanation. */
export function SwitchField({ label, hint, checked, onChange, name, testId, disabled }: SwitchFieldProps) {
  return (
    <label class={`switch-field${disabled ? ' switch-field--disabled' : ''}`}>
      <input
        type="checkbox"
        role="switch"
        aria-checked={checked}
        class="switch"
        name={name}
        data-testid={testId}
        checked={checked}
        disabled={disabled}
        onChange={(event) => onChange(event.currentTarget.checked)}
      />
      <span class="switch-field__text">
        <span class="switch-field__label">{label}</span>
        {hint && <span class="switch-field__hint">{hint}</span>}
      </span>
    </label>
  );
}
