import type { AccessAsk } from '../../tools/access-requests.ts';
import type { AskOffer } from '../../tools/tool-availability.ts';
import { useObservedState } from '../hooks.ts';

const NOTE: Record<Exclude<AccessAsk, 'idle'>, (user: string) => string> = {
  waiting: (user) => `Waiting for ${user}…`,
  refused: () => 'The user did not allow it.',
  'too-soon': () => 'You asked a moment ago. Try again in a few seconds.',
};

/**
 * "Ask <user> for access": sends the user a request for the capability, then says it waits for
 * their answer, or that they did not allow it (`[data-testid=ask-<capability>]`).
 */
export function AskAccess({ ask, label }: { ask: AskOffer; label?: string }) {
  const state = useObservedState(ask.access);
  const status = state[ask.capability];
  return (
    <div class="ask-access">
      <button
        type="button"
        class="btn btn--small"
        data-testid={`ask-${ask.capability}`}
        disabled={status === 'waiting'}
        onClick={() => ask.access.ask(ask.capability)}
      >
        {label ?? `Ask ${ask.user} for access`}
      </button>
      {status !== 'idle' && (
        <span class="ask-access__note" role="status" data-testid={`ask-${ask.capability}-status`}>
          {NOTE[status](ask.user)}
        </span>
      )}
    </div>
  );
}
