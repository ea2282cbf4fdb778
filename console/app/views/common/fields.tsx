import type { ComponentChildren } from 'preact';

export interface FieldProps {
  label: ComponentChildren;
  /** A line of explanation under the control. */
  hint?: ComponentChildren;
  /** The control's id, where the label holds more than one control. */
  htmlFor?: string;
  /** The control (and anything that goes with it, such as a datalist). */
  children: ComponentChildren;
}

/** A form control with its label above it and an optional hint below. */
export function Field({ label, hint, htmlFor, children }: FieldProps) {
  return (
    <label class="field" htmlFor={htmlFor}>
      <span class="field__label">{label}</span>
      {children}
      {hint && <span class="field__hint">{hint}</span>}
    </label>
  );
}

/** What a text field passes on to its input. */
interface InputAttributes {
  name?: string;
  placeholder?: string;
  autocomplete?: string;
  autocapitalize?: 'none';
  spellcheck?: boolean;
  maxLength?: number;
  list?: string;
  disabled?: boolean;
}

export interface TextFieldProps extends InputAttributes {
  label: ComponentChildren;
  value: string;
  onValue(value: string): void;
  testId?: string;
  /** Set in the monospaced face, for ids and other machine text. */
  mono?: boolean;
  /** What goes beside the input in its label, such as a datalist. */
  children?: ComponentChildren;
}

/**
 * A labelled one-line text input; `name`, `placeholder` and the like go to the input.
 * @example
 * <TextField label="Name" name="name" testId="new-token-name" value={name} onValue={setName} />
 */
export function TextField({ label, value, onValue, testId, mono, children, ...input }: TextFieldProps) {
  return (
    <Field label={label}>
      <input
        {...input}
        type="text"
        class={mono ? 'input input--mono' : 'input'}
        data-testid={testId}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
      {children}
    </Field>
  );
}

/** One entry of a select. */
export interface Choice {
  value: string;
  label: ComponentChildren;
}

export interface SelectFieldProps {
  name?: string;
  disabled?: boolean;
  label: ComponentChildren;
  value: string;
  onValue(value: string): void;
  choices: readonly Choice[];
  testId?: string;
  /** The classes of the select: a filter bar's selects are `select` alone. */
  selectClass?: string;
}

/**
 * A labelled select of `choices`; `name` and `disabled` go to the select.
 * @example
 * <SelectField label="Role" name="role" value={role} onValue={setRole} choices={ROLE_CHOICES} />
 */
export function SelectField({
  label,
  value,
  onValue,
  choices,
  testId,
  selectClass = 'input select',
  ...select
}: SelectFieldProps) {
  return (
    <Field label={label}>
      <select
        {...select}
        class={selectClass}
        data-testid={testId}
        value={value}
        onChange={(event) => onValue(event.currentTarget.value)}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

export interface BusyButtonProps {
  /** While true the button is disabled and says `busyLabel`. */
  busy: boolean;
  busyLabel: string;
  children: ComponentChildren;
  /** Shown before the label, busy or not. */
  icon?: ComponentChildren;
  /** The button's look besides `btn`. */
  class?: string;
  type?: 'button' | 'submit';
  testId?: string;
  disabled?: boolean;
  onClick?: () => void;
}

/**
 * A button that starts a request and says so until it is answered.
 * @example
 * <BusyButton type="submit" busy={busy} busyLabel="Creating…" icon={<IconPlus size={15} />}>Create</BusyButton>
 */
export function BusyButton({
  busy,
  busyLabel,
  children,
  icon,
  class: look = 'btn--primary',
  type = 'button',
  testId,
  disabled,
  onClick,
}: BusyButtonProps) {
  return (
    <button
      type={type}
      class={`btn ${look}`}
      data-testid={testId}
      disabled={busy || disabled}
      onClick={onClick}
    >
      {icon}
      {icon && ' '}
      {busy ? busyLabel : children}
    </button>
  );
}
