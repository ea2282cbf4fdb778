import { useEffect, useState } from 'preact/hooks';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';
import { IconPower } from './icons.tsx';

/** Names a list of people the way a sentence does: "A", "A and B", "A, B and C". */
function namesInProse(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * End session. Alone in the session it ends it at once; with other operators connected it asks
 * first, naming them, and offers to leave the session running for them instead (README "Several
 * operators"): ending it takes it from everyone, which is rarely what a viewer meant.
 */
export function EndSessionButton({
  controller,
  state,
  onLeave,
}: {
  controller: SessionController;
  state: SessionState;
  onLeave(): void;
}) {
  const [asking, setAsking] = useState(false);
  const others = state.operators.filter((operator) => operator.slot !== state.mySlot);
  const finished = state.ending || state.phase === 'ended' || state.phase === 'declined';
  // The others may all leave while the question is open: then there is nothing left to ask.
  useEffect(() => {
    if (asking && (others.length === 0 || finished)) setAsking(false);
  }, [asking, others.length, finished]);

  return (
    <div class="end-session">
      <button
        type="button"
        class="btn btn--danger"
        data-testid="end-session"
        disabled={finished}
        aria-expanded={others.length > 0 ? asking : undefined}
        onClick={() => {
          if (others.length === 0) void controller.end();
          else setAsking(!asking);
        }}
      >
        <IconPower size={16} /> {state.ending ? 'Ending…' : 'End session'}
      </button>
      {asking && others.length > 0 && (
        <div class="end-session__ask" role="alertdialog" aria-label="End the session?" data-testid="end-ask">
          <p data-testid="end-ask-text">
            {namesInProse(others.map((operator) => operator.name))} {others.length === 1 ? 'is' : 'are'} also
            connected. Ending the session ends it for them and for the user; leaving keeps it running for
            them.
          </p>
          <div class="end-session__choices">
            <button
              type="button"
              class="btn btn--small"
              data-testid="end-ask-cancel"
              onClick={() => setAsking(false)}
            >
              Cancel
            </button>
            <button
              type="button"
              class="btn btn--small btn--secondary"
              data-testid="end-ask-leave"
              onClick={onLeave}
            >
              Leave
            </button>
            <button
              type="button"
              class="btn btn--small btn--danger"
              data-testid="end-ask-end"
              onClick={() => {
                setAsking(false);
                void controller.end();
              }}
            >
              End for everyone
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
