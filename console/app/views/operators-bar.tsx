import type { SessionController } from '../session/session-controller.ts';
import { holdsControl, type SessionState } from '../session/session-state.ts';
import { GuidanceSwatch } from './guidance-toolbar.tsx';

/**
 * The operators in the session (README "Several operators"): who is here, who holds control, and
 * for the holder a "Hand over" button beside each other operator and the requests to answer.
 * Shown once a second operator is in the session, or a request waits.
 */
export function OperatorsBar({ controller, state }: { controller: SessionController; state: SessionState }) {
  if (state.phase !== 'live' || (state.operators.length < 2 && state.controlAsks.length === 0)) return null;
  const holder = holdsControl(state);
  return (
    <div class="operators-bar" data-testid="operators-bar">
      <ul class="operators-bar__list" aria-label="Operators in this session">
        {state.operators.map((operator) => (
          <li
            key={operator.slot}
            class="operators-bar__item"
            data-testid="participant"
            data-slot={operator.slot}
            data-control={operator.slot === state.controlSlot ? 'yes' : 'no'}
          >
            <GuidanceSwatch colour={operator.colour} />
            {operator.name}
            {operator.slot === state.mySlot && ' (you)'}
            {operator.slot === state.controlSlot && <span class="badge badge--on">in control</span>}
            {holder && operator.slot !== state.mySlot && (
              <button
                type="button"
                class="btn btn--small"
                data-testid="hand-over"
                onClick={() => controller.handOver(operator.slot)}
              >
                Hand over
              </button>
            )}
          </li>
        ))}
      </ul>
      {state.controlAsks.map((ask) => (
        <div
          key={ask.slot}
          class="operators-bar__ask"
          role="alert"
          data-testid="control-ask"
          data-slot={ask.slot}
        >
          <span>{ask.name} asks for control.</span>
          <button
            type="button"
            class="btn btn--small btn--primary"
            data-testid="accept-control-ask"
            onClick={() => controller.handOver(ask.slot)}
          >
            Hand over
          </button>
          <button
            type="button"
            class="btn btn--small"
            data-testid="decline-control-ask"
            onClick={() => controller.declineControl(ask.slot)}
          >
            Decline
          </button>
        </div>
      ))}
    </div>
  );
}
