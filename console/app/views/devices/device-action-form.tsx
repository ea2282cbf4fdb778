export interface DeviceActionFormProps {
  /** The form's class (its layout beside the device's other actions). */
  class: string;
  /** The field: its name, kind, hint and label for assistive technology. */
  name: string;
  type?: 'text' | 'password';
  placeholder: string;
  label: string;
  maxLength?: number;
  value: string;
  onInput(value: string): void;
  /** The button's text; pressing it (or Enter in the field) calls `onSubmit`. */
  action: string;
  disabled: boolean;
  onSubmit(): void;
  /** `data-testid` of the field and of the button. */
  testIds: { input: string; button: string };
}

/**
 * One field and the button that acts on it, in a device's row (a password to connect with, the reason
 * help is offered for).
 * @example
 * <DeviceActionForm class="device-access__offer" name="offerReason" placeholder="What for" label="Reason"
 *   value={reason} onInput={setReason} action="Offer help" disabled={busy} onSubmit={offer}
 *   testIds={{ input: 'device-offer-reason', button: 'device-offer-help' }} />
 */
export function DeviceActionForm(props: DeviceActionFormProps) {
  const field = {
    class: 'input',
    name: props.name,
    maxLength: props.maxLength,
    placeholder: props.placeholder,
    'aria-label': props.label,
    'data-testid': props.testIds.input,
    value: props.value,
    onInput: (event: { currentTarget: HTMLInputElement }) => props.onInput(event.currentTarget.value),
  };
  return (
    <form
      class={props.class}
      onSubmit={(event) => {
        event.preventDefault();
        if (!props.disabled) props.onSubmit();
      }}
    >
      {props.type === 'password' ? (
        <input type="password" autocomplete="off" {...field} />
      ) : (
        <input {...field} />
      )}
      <button
        type="submit"
        class="btn btn--secondary btn--small"
        data-testid={props.testIds.button}
        disabled={props.disabled}
      >
        {props.action}
      </button>
    </form>
  );
}
