import { cssColour, guidanceColour } from '../../../protocol/index.ts';
import type { GuidanceTool } from '../guidance/guidance-capture.ts';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';

const TOOLS: ReadonlyArray<{ tool: GuidanceTool; label: string; hint: string }> = [
  { tool: 'pointer', label: 'Pointer', hint: 'Show your pointer on the user’s screen' },
  { tool: 'arrow', label: 'Arrow', hint: 'Drag from the tail to the tip' },
  { tool: 'circle', label: 'Circle', hint: 'Drag from the centre outwards' },
  { tool: 'pen', label: 'Pen', hint: 'Draw freehand while the button is down' },
];

/** The colour an operator's guidance marks are drawn in (`colour`: the relay's index), as a small square. */
export function GuidanceSwatch({ colour }: { colour: number | undefined }) {
  const css = cssColour(guidanceColour(colour ?? 0));
  return (
    <span
      class="guidance-swatch"
      style={{ background: css }}
      title="The colour of their guidance marks"
      data-testid="guidance-swatch"
      data-colour={css}
    />
  );
}

/**
 * The guidance toolbar over the video (`[data-testid=guidance-toolbar]`, README "Guidance"): while the
 * user allows guidance, the operator picks a tool (`guidance-<tool>`) and draws on the user's screen
 * without controlling it, or clears their marks (`guidance-clear`).
 */
export function GuidanceToolbar({
  controller,
  state,
}: {
  controller: SessionController;
  state: SessionState;
}) {
  if (state.phase !== 'live' || !state.permissions.guidance) return null;
  const mine = state.operators.find((operator) => operator.slot === state.mySlot);
  return (
    <div class="guidance-bar" role="toolbar" aria-label="Guidance" data-testid="guidance-toolbar">
      <span
        class="guidance-bar__mine"
        title="Your marks are drawn in this colour"
        data-testid="guidance-mine"
      >
        <GuidanceSwatch colour={mine?.colour} />
      </span>
      {TOOLS.map(({ tool, label, hint }) => (
        <button
          key={tool}
          type="button"
          class={`btn btn--dark guidance-bar__tool${state.guidanceTool === tool ? ' guidance-bar__tool--on' : ''}`}
          title={hint}
          aria-pressed={state.guidanceTool === tool}
          data-testid={`guidance-${tool}`}
          onClick={() => controller.setGuidanceTool(state.guidanceTool === tool ? null : tool)}
        >
          {label}
        </button>
      ))}
      <button
        type="button"
        class="btn btn--dark"
        title="Remove your marks from the user’s screen"
        data-testid="guidance-clear"
        onClick={() => controller.clearGuidance()}
      >
        Clear
      </button>
    </div>
  );
}
