import type { ActionList } from '../../tools/actions/action-list.ts';
import { actionLine, actionPercent, actionTitle } from '../../tools/actions/action-text.ts';
import { type ActionState, isActionOver } from '../../tools/actions/whole-action.ts';
import { useObservedState } from '../hooks.ts';
import { IconCopy, IconDownload, IconMove, IconTrash, IconUpload } from '../icons.tsx';
import { DismissButton, RowButton } from './transfer-rows.tsx';
import { WorkRowBody } from './work-row.tsx';

const ICON = {
  download: IconDownload,
  upload: IconUpload,
  delete: IconTrash,
  copy: IconCopy,
  move: IconMove,
} as const;

function ActionRow({ action, actions }: { action: ActionState; actions: ActionList }) {
  const Icon = ICON[action.kind];
  const title = actionTitle(action);
  const moving = action.kind === 'download' || action.kind === 'upload';
  const flowing = action.step === 'starting' || action.step === 'running';
  return (
    <li
      class={`transfer transfer--${action.status === 'asking' ? 'exists' : action.status}`}
      data-testid="action"
      data-kind={action.kind}
      data-status={action.status}
      data-title={action.title}
      data-files-done={action.filesDone}
      data-files-total={action.filesTotal ?? undefined}
      data-current={action.current ?? undefined}
      data-step={action.step ?? undefined}
    >
      <WorkRowBody
        icon={Icon}
        name={title}
        nameTitle={action.current ?? undefined}
        percent={actionPercent(action)}
        line={actionLine(action)}
        lineTestId="action-line"
        alert={action.status === 'failed'}
        actions={
          <>
            {action.status === 'asking' && action.question && (
              <RowButton testid="action-yes" warning onClick={() => actions.answer(action.id, true)}>
                {action.question.yes}
              </RowButton>
            )}
            {action.status === 'asking' && action.question && action.question.no !== 'Cancel' && (
              <RowButton testid="action-no" onClick={() => actions.answer(action.id, false)}>
                {action.question.no}
              </RowButton>
            )}
            {moving && action.status === 'running' && flowing && (
              <RowButton testid="action-pause" onClick={() => actions.hold(action.id)}>
                Pause
              </RowButton>
            )}
            {action.status === 'paused' && (
              <RowButton testid="action-resume" onClick={() => actions.proceed(action.id)}>
                Resume
              </RowButton>
            )}
            {!isActionOver(action.status) && (
              <RowButton testid="action-cancel" onClick={() => actions.cancel(action.id)}>
                Cancel
              </RowButton>
            )}
            {isActionOver(action.status) && (
              <DismissButton testid="action-dismiss" onClick={() => actions.dismiss(action.id)} />
            )}
          </>
        }
      />
    </li>
  );
}

/** Every whole action of the session (a zip, an upload of a folder, changes of several items), newest last. */
export function ActionRows({ actions }: { actions: ActionList }) {
  const state = useObservedState(actions);
  if (state.items.length === 0) return null;
  return (
    <section class="transfers" aria-label="Actions on several files">
      <ul class="transfers__list" data-testid="actions">
        {state.items.map((action) => (
          <ActionRow key={action.id} action={action} actions={actions} />
        ))}
      </ul>
    </section>
  );
}
