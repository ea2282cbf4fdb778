import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export interface NameFieldProps {
  /** The form's class, and the class of the line that says why a name was refused. */
  class: string;
  problemClass: string;
  initial: string;
  label: string;
  placeholder?: string;
  testId: string;
  /** Takes the name, or says why not (shown under the field until the name changes). */
  onName(name: string): string | null;
  /** Called once the name is taken, and on Escape. */
  onDone(): void;
  /** Buttons beside the field; Enter submits without them. */
  children?: ComponentChildren;
}

/** A name typed in place in the file manager (a new folder, a rename): Enter takes it, Escape leaves it. */
export function NameField(props: NameFieldProps) {
  const { onName, onDone } = props;
  const [value, setValue] = useState(props.initial);
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      class={props.class}
      onSubmit={(event) => {
        event.preventDefault();
        const reason = onName(value);
        if (reason) setProblem(reason);
        else onDone();
      }}
    >
      <input
        class="tool-input"
        data-testid={props.testId}
        placeholder={props.placeholder}
        aria-label={props.label}
        value={value}
        // biome-ignore lint/a11y/noAutofocus: the field appears because the operator asked for it.
        autoFocus
        onInput={(event) => {
          setValue(event.currentTarget.value);
          setProblem(null);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') onDone();
        }}
      />
      {props.children}
      {problem && <span class={props.problemClass}>{problem}</span>}
    </form>
  );
}
