import { useEffect, useRef } from 'preact/hooks';
import { CopyButton } from './copy-button.tsx';

export interface SecretOnceProps {
  title: string;
  value: string;
  testId: string;
  /** What the secret is for and where it goes. */
  hint?: string;
  onDone?: () => void;
}

/** A secret the server shows this once (a token, a key), with Copy and a clear warning. */
export function SecretOnce({ title, value, testId, hint, onDone }: SecretOnceProps) {
  const box = useRef<HTMLDivElement>(null);
  // It appears where the button was pressed, which may be below the fold: bring it into view.
  useEffect(() => box.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }), [value]);
  return (
    <div class="secret-once" role="status" ref={box}>
      <div class="secret-once__title">{title}</div>
      <p class="secret-once__hint">
        {hint ? `${hint} ` : ''}Copy it now: it is stored hashed and will not be shown again.
      </p>
      <div class="secret-once__row">
        <code class="secret-once__value" data-testid={testId}>
          {value}
        </code>
        <CopyButton text={value} testId={`${testId}-copy`} />
      </div>
      {onDone && (
        <button type="button" class="btn btn--link secret-once__done" onClick={onDone}>
          I have copied it
        </button>
      )}
    </div>
  );
}
