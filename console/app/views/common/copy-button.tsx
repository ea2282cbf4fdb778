import { useEffect, useState } from 'preact/hooks';
import { IconCheck, IconCopy } from '../icons.tsx';

/** How long the button says "Copied", in ms. */
const COPIED_MS = 2000;

/**
 * Puts text on the clipboard. The Clipboard API needs a secure context; on plain HTTP the older
 * `execCommand('copy')` on a hidden field still works.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, page not focused): fall back below.
  }
  const field = document.createElement('textarea');
  field.value = text;
  field.setAttribute('readonly', '');
  field.className = 'visually-hidden';
  document.body.append(field);
  field.select();
  try {
    return document.execCommand('copy');
  } finally {
    field.remove();
  }
}

export interface CopyButtonProps {
  text: string;
  label?: string;
  testId?: string;
  /** Extra classes, for example `btn--small`. */
  class?: string;
}

/** A button that copies `text` and says so for a moment. */
export function CopyButton({ text, label = 'Copy', testId, class: extra = '' }: CopyButtonProps) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), COPIED_MS);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <button
      type="button"
      class={`btn btn--secondary ${extra}`.trim()}
      data-testid={testId}
      data-state={state}
      onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}
    >
      {state === 'copied' ? <IconCheck size={15} /> : <IconCopy size={15} />}
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : label}
    </button>
  );
}
