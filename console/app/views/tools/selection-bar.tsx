import type { ActionList } from '../../tools/actions/action-list.ts';
import type { FileBrowser, FileClip } from '../../tools/file-browser.ts';
import type { TransferList } from '../../tools/transfers/transfer-list.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { useObservedState } from '../hooks.ts';
import { IconCopy, IconDownload, IconMove, IconTrash } from '../icons.tsx';

/** Copy and Move: each picks the selection up to be put down in another folder. */
const PICKS: ReadonlyArray<{ mode: FileClip['mode']; label: string; Icon: typeof IconCopy }> = [
  { mode: 'copy', label: 'Copy', Icon: IconCopy },
  { mode: 'move', label: 'Move', Icon: IconMove },
];

/**
 * What can be done with the items ticked in the folder shown, all at once: download (one file as
 * itself, anything more as one zip), copy, move, delete; each a whole action with one progress.
 */
export function SelectionBar({
  files,
  actions,
  transfers,
  folderName,
}: {
  files: FileBrowser;
  actions: ActionList;
  transfers: TransferList;
  /** The folder shown's name, which names the zip of several items. */
  folderName: string;
}) {
  const state = useObservedState(files);
  const picked = files.entriesNamed(state.selected);
  const count = picked.length;
  const only = picked[0];
  return (
    <div class="files__selection" role="toolbar" aria-label="Selected items" data-testid="files-selection">
      <span data-testid="files-selected-count">{count} selected</span>
      <button
        type="button"
        class="btn btn--primary btn--small"
        data-testid="selection-download"
        onClick={() => {
          if (count === 1 && only?.type === 'file') transfers.download(only.path);
          else actions.zip(picked, state.path, folderName);
          files.selectAll(false);
        }}
      >
        <IconDownload size={14} /> {count === 1 && only?.type === 'file' ? 'Download' : 'Download as zip'}
      </button>
      {PICKS.map(({ mode, label, Icon }) => (
        <button
          key={mode}
          type="button"
          class="btn btn--dark btn--small"
          data-testid={`selection-${mode}`}
          disabled={state.busy !== null}
          onClick={() => files.pickSelected(mode)}
        >
          <Icon size={14} /> {label}
        </button>
      ))}
      <ConfirmButton
        class="btn--dark"
        confirmLabel={`Delete ${count}?`}
        testId="selection-delete"
        disabled={state.busy !== null}
        onConfirm={() => {
          actions.change('delete', picked);
          files.selectAll(false);
        }}
      >
        <IconTrash size={14} /> Delete
      </ConfirmButton>
      <button
        type="button"
        class="btn btn--dark btn--small"
        data-testid="selection-clear"
        onClick={() => files.selectAll(false)}
      >
        Clear
      </button>
    </div>
  );
}
