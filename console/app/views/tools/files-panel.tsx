import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_LISTING_ENTRIES } from '../../../../protocol/index.ts';
import type { ActionList } from '../../tools/actions/action-list.ts';
import type { UploadItem } from '../../tools/actions/upload-action.ts';
import { readDropped, takeDrop } from '../../tools/dropped-files.ts';
import type { FileBrowser, FileBrowserState } from '../../tools/file-browser.ts';
import {
  ALL_ROOTS_NAME,
  breadcrumbs,
  joinPath,
  rootLabel,
  sharesAllRoots,
} from '../../tools/shared-paths.ts';
import type { ToolAvailability } from '../../tools/tool-availability.ts';
import type { TransferList } from '../../tools/transfers/transfer-list.ts';
import { IconButton } from '../common/icon-button.tsx';
import { useObservedState } from '../hooks.ts';
import { IconFolder, IconFolderPlus, IconRefresh, IconUpload } from '../icons.tsx';
import { ActionRows } from './action-rows.tsx';
import { FileTable } from './file-table.tsx';
import { NameField } from './name-field.tsx';
import { SelectionBar } from './selection-bar.tsx';
import { ToolAlert, ToolUnavailable } from './tool-unavailable.tsx';
import { TransferRows } from './transfer-rows.tsx';

/** The shared folder's own name, from its absolute path on the device. */
function rootName(root: string | null): string {
  const name = root?.split(/[\\/]/).filter(Boolean).at(-1);
  return name ?? 'Shared folder';
}

/**
 * The top breadcrumb and its tooltip: the shared folder, or where the agent shares every drive or
 * mount, the device (its roots are the next crumb), with the root shown as the tooltip.
 */
function topOf(state: FileBrowserState): { name: string; title: string | undefined } {
  if (
    !sharesAllRoots(
      state.path,
      state.entries.map((entry) => entry.name),
    )
  ) {
    return { name: rootName(state.root), title: state.root ?? undefined };
  }
  const first = state.path.split('/')[0] ?? '';
  return { name: ALL_ROOTS_NAME, title: first === '' ? undefined : rootLabel(first) };
}

/** The files of an Upload folder pick, each at its path inside the folder picked. */
function pickedFolder(files: File[]): UploadItem[] {
  return files.map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * The file manager: the shared folder with breadcrumbs, pages of up to MAX_LISTING_ENTRIES
 * entries, downloads, uploads (button or drop onto the panel), new folder, rename, delete, and
 * every transfer's progress.
 */
export function FilesPanel({
  files,
  transfers,
  actions,
  availability,
  visible,
}: {
  files: FileBrowser;
  transfers: TransferList;
  actions: ActionList;
  availability: ToolAvailability;
  visible: boolean;
}) {
  const state = useObservedState(files);
  const [creating, setCreating] = useState(false);
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const [folderProblem, setFolderProblem] = useState<string | null>(null);
  const usable = availability.usable;

  useEffect(() => {
    if (visible && usable && !files.state.loaded && !files.state.loading) files.open('');
  }, [visible, usable, files]);

  /** One file is one transfer; several files or folders are one action with one progress. */
  const upload = (items: UploadItem[], folders: string[] = []) => {
    if (!usable || items.length + folders.length === 0) return;
    const only = items[0];
    if (items.length === 1 && folders.length === 0 && only && !only.path.includes('/')) {
      transfers.upload(only.file, state.path);
    } else actions.upload(items, folders, state.path);
  };

  const pageEnd = state.offset + state.entries.length;
  const top = topOf(state);
  const crumbs = breadcrumbs(state.path, top.name);
  const folderName = crumbs.at(-1)?.name ?? 'files';
  /** Downloads a file, or a folder as one zip (inside the operator's click: the browser's download begins there). */
  const download = (name: string) => {
    const entries = files.entriesNamed([name]);
    if (entries[0]?.type === 'directory') actions.zip(entries, state.path, folderName);
    else transfers.download(joinPath(state.path, name));
  };
  return (
    <section
      class={`files${dragging ? ' files--dragging' : ''}`}
      data-testid="files-panel"
      aria-label="Files"
      onDragOver={(event) => {
        if (!usable || !event.dataTransfer?.types.includes('Files')) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(event) => {
        if (
          event.currentTarget === event.target ||
          !event.currentTarget.contains(event.relatedTarget as Node)
        )
          setDragging(false);
      }}
      onDrop={(event) => {
        if (!usable) return;
        event.preventDefault();
        setDragging(false);
        if (!event.dataTransfer) return;
        const taken = takeDrop(event.dataTransfer);
        readDropped(taken).then(
          (dropped) => upload(dropped.items, dropped.folders),
          (error: unknown) => setFolderProblem(`The dropped files could not be read: ${String(error)}`),
        );
      }}
    >
      <div class="files__bar">
        <nav class="crumbs" aria-label="Folder" data-testid="breadcrumbs" title={top.title}>
          {crumbs.map((crumb, index) => (
            <span key={crumb.path} class="crumbs__item">
              {index > 0 && <span class="crumbs__sep">/</span>}
              {index === crumbs.length - 1 ? (
                <span class="crumbs__current" aria-current="location">
                  {crumb.name}
                </span>
              ) : (
                <button
                  type="button"
                  class="crumbs__link"
                  data-testid="breadcrumb"
                  disabled={!usable}
                  onClick={() => files.open(crumb.path)}
                >
                  {crumb.name}
                </button>
              )}
            </span>
          ))}
        </nav>
        <div class="files__actions">
          <IconButton
            label="Refresh"
            testId="files-refresh"
            disabled={!usable}
            onClick={() => files.refresh()}
          >
            <IconRefresh size={15} />
          </IconButton>
          <IconButton
            label="New folder"
            testId="new-folder"
            disabled={!usable || state.busy !== null}
            onClick={() => setCreating(true)}
          >
            <IconFolderPlus size={16} />
          </IconButton>
          <button
            type="button"
            class="btn btn--primary btn--small"
            data-testid="upload"
            disabled={!usable}
            onClick={() => inputRef.current?.click()}
          >
            <IconUpload size={14} /> Upload
          </button>
          <input
            ref={inputRef}
            type="file"
            multiple
            hidden
            data-testid="upload-input"
            onChange={(event) => {
              const list = Array.from(event.currentTarget.files ?? []);
              event.currentTarget.value = '';
              upload(list.map((file) => ({ file, path: file.name })));
            }}
          />
          <button
            type="button"
            class="btn btn--dark btn--small"
            data-testid="upload-folder"
            disabled={!usable}
            onClick={() => folderRef.current?.click()}
          >
            <IconFolder size={14} /> Upload folder
          </button>
          <input
            ref={folderRef}
            type="file"
            hidden
            // A whole folder: every file in it, with its path inside the folder.
            {...{ webkitdirectory: true }}
            data-testid="upload-folder-input"
            onChange={(event) => {
              const list = Array.from(event.currentTarget.files ?? []);
              event.currentTarget.value = '';
              if (usable && list.length > 0) actions.upload(pickedFolder(list), [], state.path);
            }}
          />
        </div>
      </div>
      {availability.reason && (
        <ToolUnavailable reason={availability.reason} testId="files-unavailable" ask={availability.ask} />
      )}
      {creating && usable && (
        <NameField
          class="files__new-folder"
          problemClass="files__problem"
          initial=""
          label="New folder name"
          placeholder="New folder name"
          testId="new-folder-name"
          onName={(name) => files.mkdir(name.trim())}
          onDone={() => setCreating(false)}
        >
          <button type="submit" class="btn btn--primary btn--small" data-testid="new-folder-create">
            Create
          </button>
          <button type="button" class="btn btn--dark btn--small" onClick={() => setCreating(false)}>
            Cancel
          </button>
        </NameField>
      )}
      {state.selected.length > 0 && usable && (
        <SelectionBar files={files} actions={actions} transfers={transfers} folderName={folderName} />
      )}
      {state.clip && usable && (
        <div class="files__clip" role="status" data-testid="files-clip">
          <span>
            {state.clip.mode === 'copy' ? 'Copy' : 'Move'} {state.clip.name}: open the folder it goes to.
          </span>
          <button
            type="button"
            class="btn btn--primary btn--small"
            data-testid="files-paste"
            disabled={state.busy !== null}
            onClick={() => {
              const clip = state.clip;
              if (clip && clip.entries.length > 1) {
                actions.change(clip.mode, clip.entries, state.path);
                files.drop();
              } else files.paste();
            }}
          >
            {state.clip.mode === 'copy' ? 'Copy here' : 'Move here'}
          </button>
          <button type="button" class="btn btn--dark btn--small" onClick={() => files.drop()}>
            Cancel
          </button>
        </div>
      )}
      {state.busy && (
        <div class="files__busy" role="status">
          {state.busy}
        </div>
      )}
      {state.opError && (
        <ToolAlert message={state.opError} testId="files-op-error" onDismiss={() => files.clearOpError()} />
      )}
      {state.error && <ToolAlert message={state.error} testId="files-error" />}
      {folderProblem && (
        <ToolAlert
          message={folderProblem}
          testId="files-folder-error"
          onDismiss={() => setFolderProblem(null)}
        />
      )}
      <div class="files__list" data-loading={state.loading ? 'true' : undefined}>
        {state.loaded && state.entries.length === 0 && !state.error && (
          <div class="files__empty">This folder is empty.</div>
        )}
        {state.entries.length > 0 && (
          <FileTable
            entries={state.entries}
            disabled={!usable || state.busy !== null}
            onOpen={(name) => files.open(joinPath(state.path, name))}
            onDownload={download}
            selected={state.selected}
            onSelect={(name, range) => files.select(name, range)}
            onSelectAll={(on) => files.selectAll(on)}
            onRename={(name, to) => files.rename(name, to.trim())}
            onDelete={(name) => files.remove(name)}
            onPick={(name, mode) => files.pick(name, mode)}
            {...(state.path === '' ? { label: rootLabel } : {})}
          />
        )}
      </div>
      {state.total > state.entries.length && (
        <div class="files__pager" data-testid="files-pager">
          <span>
            {state.offset + 1}–{pageEnd} of {state.total}
          </span>
          <button
            type="button"
            class="btn btn--dark btn--small"
            data-testid="files-previous"
            disabled={state.offset === 0 || state.loading}
            onClick={() => files.open(state.path, Math.max(0, state.offset - MAX_LISTING_ENTRIES))}
          >
            Previous
          </button>
          <button
            type="button"
            class="btn btn--dark btn--small"
            data-testid="files-next"
            disabled={pageEnd >= state.total || state.loading}
            onClick={() => files.open(state.path, pageEnd)}
          >
            Next
          </button>
        </div>
      )}
      <TransferRows transfers={transfers} />
      <ActionRows actions={actions} />
      {dragging && (
        <div class="files__drop" aria-hidden="true">
          Drop to upload into {crumbs.at(-1)?.name}
        </div>
      )}
    </section>
  );
}
