import type { Ref, TargetedInputEvent } from 'preact';
import { CONNECTION_CODE_DIGITS, formatConnectionCode } from '../../../protocol/index.ts';

export interface CodeInputProps {
  value: string;
  onChange(formatted: string): void;
  inputRef?: Ref<HTMLInputElement>;
  disabled?: boolean;
  invalid?: boolean;
}

/** Where the caret belongs after formatting: just after the same number of digits as before. */
function caretAfterDigits(formatted: string, digits: number): number {
  if (digits === 0) return 0;
  let seen = 0;
  for (let index = 0; index < formatted.length; index++) {
    if (/\d/.test(formatted[index] ?? '') && ++seen === digits) return index + 1;
  }
  return formatted.length;
}

/**
 * The connection-code field: keeps digits only and groups them as they are typed or pasted
 * (`123 456 789`), keeping the caret where the person was typing.
 */
export function CodeInput({ value, onChange, inputRef, disabled, invalid }: CodeInputProps) {
  const onInput = (event: TargetedInputEvent<HTMLInputElement>) => {
    const input = event.currentTarget;
    const caret = input.selectionStart ?? input.value.length;
    const digitsBeforeCaret = input.value.slice(0, caret).replace(/\D/g, '').length;
    const formatted = formatConnectionCode(input.value.replace(/\D/g, '').slice(0, CONNECTION_CODE_DIGITS));
    // Preact skips the DOM write when the state does not change, so set it here as well.
    input.value = formatted;
    const at = caretAfterDigits(formatted, Math.min(digitsBeforeCaret, CONNECTION_CODE_DIGITS));
    input.setSelectionRange(at, at);
    onChange(formatted);
  };
  return (
    <input
      ref={inputRef}
      id="connection-code"
      class={`input input--code${invalid ? ' input--invalid' : ''}`}
      data-testid="code-input"
      name="code"
      value={value}
      onInput={onInput}
      inputMode="numeric"
      autocomplete="off"
      spellcheck={false}
      placeholder="123 456 789"
      aria-label="Connection code"
      aria-invalid={invalid}
      disabled={disabled}
    />
  );
}
