import type { ComponentChildren } from 'preact';
import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileEntry } from '../../../../protocol/index.ts';
import { formatBytes } from '../../format/bytes.ts';
import { formatMoment } from '../../format/time.ts';
import { CONFIRM_WINDOW_MS } from '../common/confirm-button.tsx';
import { IconCopy, IconDownload, IconFile, IconFolder, IconMove, IconPencil, IconTrash } from '../icons.tsx';
import { NameField } from './name-field.tsx';

export interface FileTableProps {
  entries: FileEntry[];
  /** Changes are turned off (one is running, or the tool is not usable). */
  disabled: boolean;
  onOpen(name: string): void;
  /** Downloads a file, or a folder as a zip. */
  onDownload(name: string): void;
  /** Names ticked for an action on several items. */
  selected: readonly string[];
  /** Ticks or unticks `name`; `range` (Shift held) does the same to every name since the last one. */
  onSelect(name: string, range: boolean): void;
  onSelectAll(on: boolean): void;
  /** Returns why the name cannot be used, or null once the rename was asked for. */
  onRename(name: string, to: string): string | null;
  onDelete(name: string): void;
  /** Picks `name` up to be copied or moved into another folder. */
  onPick(name: string, mode: 'copy' | 'move'): void;
  /** How a name is shown (default: as it is); the roots' names at the top of every drive. */
  label?: (name: string) => string;
}

/** The header's box: ticks every item of the page; half-ticked when some are. */
function SelectAllBox({
  count,
  of,
  onSelectAll,
}: {
  count: number;
  of: number;
  onSelectAll(on: boolean): void;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = count > 0 && count < of;
  }, [count, of]);
  return (
    <input
      ref={ref}
      type="checkbox"
      class="file-table__check"
      data-testid="file-select-all"
      aria-label="Select everything in this folder"
      checked={count > 0 && count === of}
      onChange={(event) => onSelectAll(event.currentTarget.checked)}
    />
  );
}

/** What a row's control does; the table's one click handler reads it from `data-action`. */
type RowAction = 'select' | 'open' | 'download' | 'copy' | 'move' | 'rename' | 'delete';

interface FileRowProps {
  entry: FileEntry;
  /** The name as shown (the roots' names at the top of every drive). */
  shown: string;
  selected: boolean;
  disabled: boolean;
  /** Delete was clicked once: the next click deletes. */
  armed: boolean;
  /** The rename field's callbacks while this row is being renamed. */
  renaming?: { onName(to: string): string | null; onDone(): void } | undefined;
}

/**
 * One entry: a row re-renders only when its own props change (memo), and its controls carry
 * `data-action` instead of handlers of their own, so a page of 300 rows is drawn and ticked quickly.
 */
const FileRow = memo(function FileRow({ entry, shown, selected, disabled, armed, renaming }: FileRowProps) {
  const folder = entry.type === 'directory';
  return (
    <tr
      data-testid="file-row"
      data-name={entry.name}
      data-type={entry.type}
      data-selected={selected ? 'true' : undefined}
    >
      <td class="file-table__select">
        <input
          type="checkbox"
          class="file-table__check"
          data-testid="file-select"
          data-action="select"
          aria-label={`Select ${shown}`}
          checked={selected}
        />
      </td>
      <td class="file-table__name">
        {renaming ? (
          <NameField
            class="file-rename"
            problemClass="file-rename__problem"
            initial={entry.name}
            label={`New name for ${entry.name}`}
            testId="file-rename-input"
            onName={renaming.onName}
            onDone={renaming.onDone}
          />
        ) : folder ? (
          <button
            type="button"
            class="file-name file-name--folder"
            data-testid="file-open"
            data-action="open"
          >
            <IconFolder size={16} class="file-name__icon" />
            <span class="file-name__text">{shown}</span>
          </button>
        ) : (
          <span class="file-name" title={entry.type === 'file' ? undefined : `A ${entry.type}`}>
            <IconFile size={16} class="file-name__icon" />
            <span class="file-name__text">{entry.name}</span>
          </span>
        )}
      </td>
      <td class="file-table__size">{folder ? '' : formatBytes(entry.size)}</td>
      <td class="file-table__time">{formatMoment(entry.modifiedAt)}</td>
      <td class="file-table__actions">
        {(entry.type === 'file' || folder) && (
          <RowButton
            action="download"
            label={folder ? `Download ${entry.name} as a zip` : `Download ${entry.name}`}
          >
            <IconDownload size={15} />
          </RowButton>
        )}
        <RowButton action="copy" label={`Copy ${entry.name}`} disabled={disabled}>
          <IconCopy size={14} />
        </RowButton>
        <RowButton action="move" label={`Move ${entry.name}`} disabled={disabled}>
          <IconMove size={14} />
        </RowButton>
        <RowButton action="rename" label={`Rename ${entry.name}`} disabled={disabled}>
          <IconPencil size={14} />
        </RowButton>
        <button
          type="button"
          class={`btn btn--small ${armed ? 'btn--danger' : 'btn--quiet'}`}
          data-testid="file-delete"
          data-action="delete"
          data-armed={armed ? 'true' : undefined}
          disabled={disabled}
        >
          {armed ? (
            'Delete?'
          ) : (
            <>
              <IconTrash size={14} />
              <span class="visually-hidden">Delete {entry.name}</span>
            </>
          )}
        </button>
      </td>
    </tr>
  );
});

/** A row's icon button (as IconButton draws it), whose click the table handles. */
function RowButton({
  action,
  label,
  disabled,
  children,
}: {
  action: RowAction;
  label: string;
  disabled?: boolean;
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class="icon-btn"
      data-testid={`file-${action}`}
      data-action={action}
      title={label}
      aria-label={label}
      disabled={disabled}
    >
      {children}
    </button>
  );
}

/**
 * One page of a folder: folders first (as the agent sorts), each with a box to tick it for an
 * action on several items (Shift ticks a range), its size, time and actions. One click handler
 * serves every row (keyboard activation of a button or box is a click too).
 */
export function FileTable({
  entries,
  disabled,
  onOpen,
  onDownload,
  selected,
  onSelect,
  onSelectAll,
  onRename,
  onDelete,
  onPick,
  label = (name) => name,
}: FileTableProps) {
  const [renaming, setRenaming] = useState<string | null>(null);
  const [armed, setArmed] = useState<string | null>(null);
  useEffect(() => {
    if (armed === null) return;
    const timer = setTimeout(() => setArmed(null), CONFIRM_WINDOW_MS);
    return () => clearTimeout(timer);
  }, [armed]);
  const ticked = new Set(selected);
  const onClick = (event: MouseEvent) => {
    const control = (event.target as Element).closest<HTMLElement>('[data-action]');
    const name = control?.closest<HTMLElement>('[data-testid=file-row]')?.dataset['name'];
    if (!control || name === undefined) return;
    switch (control.dataset['action'] as RowAction) {
      case 'select':
        // The table's state decides; the box shows it on the next render.
        event.preventDefault();
        onSelect(name, event.shiftKey);
        return;
      case 'open':
        onOpen(name);
        return;
      case 'download':
        onDownload(name);
        return;
      case 'copy':
      case 'move':
        onPick(name, control.dataset['action'] as 'copy' | 'move');
        return;
      case 'rename':
        setRenaming(name);
        return;
      case 'delete':
        if (armed !== name) {
          setArmed(name);
          return;
        }
        setArmed(null);
        onDelete(name);
    }
  };
  return (
    <table class="file-table" data-testid="file-table">
      <thead>
        <tr>
          <th scope="col" class="file-table__select">
            <SelectAllBox count={selected.length} of={entries.length} onSelectAll={onSelectAll} />
          </th>
          <th scope="col">Name</th>
          <th scope="col" class="file-table__size">
            Size
          </th>
          <th scope="col" class="file-table__time">
            Modified
          </th>
          <th scope="col" class="file-table__actions">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      {/* biome-ignore lint/a11y/useKeyWithClickEvents: the clicks come from the rows' buttons and boxes, which the keyboard activates */}
      <tbody onClick={onClick}>
        {entries.map((entry) => (
          <FileRow
            key={entry.name}
            entry={entry}
            shown={label(entry.name)}
            selected={ticked.has(entry.name)}
            disabled={disabled}
            armed={armed === entry.name}
            renaming={
              renaming === entry.name
                ? { onName: (to) => onRename(entry.name, to), onDone: () => setRenaming(null) }
                : undefined
            }
          />
        ))}
      </tbody>
    </table>
  );
}
