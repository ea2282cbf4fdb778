import { useEffect, useRef, useState } from 'preact/hooks';
import type { FileEntry } from '../../../../protocol/index.ts';
import { formatBytes } from '../../format/bytes.ts';
import { formatMoment } from '../../format/time.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { IconButton } from '../common/icon-button.tsx';
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

/**
 * One page of a folder: folders first (as the agent sorts), each with a box to tick it for an
 * action on several items (Shift ticks a range), its size, time and actions.
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
      <tbody>
        {entries.map((entry) => {
          const folder = entry.type === 'directory';
          return (
            <tr
              key={entry.name}
              data-testid="file-row"
              data-name={entry.name}
              data-type={entry.type}
              data-selected={selected.includes(entry.name) ? 'true' : undefined}
            >
              <td class="file-table__select">
                <input
                  type="checkbox"
                  class="file-table__check"
                  data-testid="file-select"
                  aria-label={`Select ${label(entry.name)}`}
                  checked={selected.includes(entry.name)}
                  onClick={(event) => {
                    // The table's state decides; the box shows it on the next render.
                    event.preventDefault();
                    onSelect(entry.name, event.shiftKey);
                  }}
                />
              </td>
              <td class="file-table__name">
                {renaming === entry.name ? (
                  <NameField
                    class="file-rename"
                    problemClass="file-rename__problem"
                    initial={entry.name}
                    label={`New name for ${entry.name}`}
                    testId="file-rename-input"
                    onName={(to) => onRename(entry.name, to)}
                    onDone={() => setRenaming(null)}
                  />
                ) : folder ? (
                  <button
                    type="button"
                    class="file-name file-name--folder"
                    data-testid="file-open"
                    onClick={() => onOpen(entry.name)}
                  >
                    <IconFolder size={16} class="file-name__icon" />
                    <span class="file-name__text">{label(entry.name)}</span>
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
                  <IconButton
                    label={folder ? `Download ${entry.name} as a zip` : `Download ${entry.name}`}
                    testId="file-download"
                    onClick={() => onDownload(entry.name)}
                  >
                    <IconDownload size={15} />
                  </IconButton>
                )}
                <IconButton
                  label={`Copy ${entry.name}`}
                  testId="file-copy"
                  disabled={disabled}
                  onClick={() => onPick(entry.name, 'copy')}
                >
                  <IconCopy size={14} />
                </IconButton>
                <IconButton
                  label={`Move ${entry.name}`}
                  testId="file-move"
                  disabled={disabled}
                  onClick={() => onPick(entry.name, 'move')}
                >
                  <IconMove size={14} />
                </IconButton>
                <IconButton
                  label={`Rename ${entry.name}`}
                  testId="file-rename"
                  disabled={disabled}
                  onClick={() => setRenaming(entry.name)}
                >
                  <IconPencil size={14} />
                </IconButton>
                <ConfirmButton
                  class="btn--quiet"
                  confirmLabel="Delete?"
                  testId="file-delete"
                  disabled={disabled}
                  onConfirm={() => onDelete(entry.name)}
                >
                  <IconTrash size={14} />
                  <span class="visually-hidden">Delete {entry.name}</span>
                </ConfirmButton>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
