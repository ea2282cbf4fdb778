import { useState } from 'preact/hooks';
import {
  REGISTRY_ROOTS,
  REGISTRY_TYPES,
  type RegistryType,
  type RegistryValue,
} from '../../../../protocol/device-orders.ts';
import { changeRegistry, readRegistry } from '../../api/devices.ts';
import type { Device } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';
import { DeviceActionForm } from './device-action-form.tsx';
import { type ElevatedToolColumn, ElevatedToolTable, useElevatedTool } from './elevated-tool-table.tsx';

export interface DeviceRegistryProps {
  device: Device;
  onClose(): void;
}

/** The value being edited: its name, type and data as the form holds them (numbers in decimal, lines for a multi-string). */
interface Draft {
  name: string;
  /** Whether the value is there already (its name is then fixed). */
  existing: boolean;
  type: RegistryType;
  data: string;
}

/** What `reg query` prints of a value, as the edit form shows it. */
function draftOf(value: RegistryValue): Draft {
  const type = (REGISTRY_TYPES as readonly string[]).includes(value.type)
    ? (value.type as RegistryType)
    : 'REG_SZ';
  let data = value.data;
  if (type === 'REG_DWORD' || type === 'REG_QWORD') {
    try {
      data = BigInt(value.data).toString();
    } catch {
      data = '';
    }
  }
  if (type === 'REG_MULTI_SZ') data = value.data.split('\\0').join('\n');
  return { name: value.name, existing: true, type, data };
}

const COLUMNS: ElevatedToolColumn<RegistryValue>[] = [
  {
    head: 'Name',
    class: 'cell-mono',
    cell: (entry) => (entry.name ? <DeviceText text={entry.name} mark={false} /> : '(Default)'),
  },
  { head: 'Type', class: 'cell-mono', cell: (entry) => entry.type },
  { head: 'Data', class: 'cell-mono', cell: (entry) => <DeviceText text={entry.data} mark={false} /> },
];

/**
 * Elevated tools → Registry (README, "Elevated tools", Windows only): a key's subkeys to go down
 * into and its path to go back up, its values with Edit and Delete, a new value or subkey, and the
 * key's deletion; every change goes through the device's `reg.exe`.
 */
export function DeviceRegistry({ device, onClose }: DeviceRegistryProps) {
  const [key, setKey] = useState<string>('HKLM');
  const [subkeys, setSubkeys] = useState<string[]>([]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [newKey, setNewKey] = useState('');
  const [currentUser, setCurrentUser] = useState<string | undefined>();
  const tool = useElevatedTool(
    async () => {
      const read = await readRegistry(device.id, key);
      setSubkeys(read.subkeys);
      setCurrentUser(read.currentUser);
      return { entries: read.values, total: read.total.values };
    },
    'The key could not be read.',
    [device.id, key],
  );
  const parts = key.split('\\');
  const open = (next: string) => {
    setDraft(null);
    setKey(next);
  };

  const save = (edit: Draft) =>
    tool.act(async () => {
      const value =
        edit.type === 'REG_MULTI_SZ'
          ? { type: edit.type, data: edit.data.split('\n').filter((line) => line !== '') }
          : { type: edit.type, data: edit.data.trim() };
      await changeRegistry(device.id, { op: 'set-value', key, name: edit.name, value });
      setDraft(null);
      return `Set ${edit.name || '(Default)'} in ${key}.`;
    }, 'The value could not be set.');
  const deleteValue = (entry: RegistryValue) =>
    tool.act(async () => {
      await changeRegistry(device.id, { op: 'delete-value', key, name: entry.name });
      return `Deleted ${entry.name || '(Default)'} of ${key}.`;
    }, 'The value could not be deleted.');
  const createKey = () =>
    tool.act(async () => {
      const created = `${key}\\${newKey.trim()}`;
      await changeRegistry(device.id, { op: 'create-key', key: created });
      setNewKey('');
      return `Created ${created}.`;
    }, 'The key could not be created.');
  const deleteKey = () =>
    tool.act(async () => {
      await changeRegistry(device.id, { op: 'delete-key', key });
      setKey(parts.slice(0, -1).join('\\'));
      return `Deleted ${key}.`;
    }, 'The key could not be deleted.');

  return (
    <ElevatedToolTable
      device={device}
      tool="registry"
      controls={
        <div class="registry">
          <div class="device-access__connect">
            <select
              class="select"
              aria-label="Root key"
              data-testid="registry-root"
              value={parts[0]}
              onChange={(event) => open(event.currentTarget.value)}
            >
              {REGISTRY_ROOTS.map((root) => (
                <option key={root} value={root}>
                  {root}
                </option>
              ))}
            </select>
            <nav aria-label="Key path" class="cell-mono" data-testid="registry-path">
              {parts.map((part, i) => (
                <span key={parts.slice(0, i + 1).join('\\')}>
                  {i > 0 && '\\'}
                  <button
                    type="button"
                    class="btn btn--link btn--small"
                    onClick={() => open(parts.slice(0, i + 1).join('\\'))}
                  >
                    <DeviceText text={part} mark={false} />
                  </button>
                </span>
              ))}
            </nav>
            {parts[0] === 'HKCU' && currentUser !== undefined && (
              <span data-testid="registry-current-user">
                HKCU of <DeviceText text={currentUser} />, logged in at the device
              </span>
            )}
            {parts.length > 2 && (
              <ConfirmButton
                confirmLabel={`Delete ${key} for good?`}
                onConfirm={() => void deleteKey()}
                testId="registry-delete-key"
              >
                Delete key
              </ConfirmButton>
            )}
            <button
              type="button"
              class="btn btn--secondary btn--small"
              data-testid="registry-new-value"
              onClick={() => setDraft({ name: '', existing: false, type: 'REG_SZ', data: '' })}
            >
              New value
            </button>
          </div>
          <ul class="registry__subkeys" aria-label="Subkeys">
            {subkeys.map((subkey) => (
              <li key={subkey}>
                <button
                  type="button"
                  class="btn btn--link btn--small cell-mono"
                  data-testid="registry-subkey"
                  data-subkey={subkey}
                  onClick={() => open(`${key}\\${subkey}`)}
                >
                  <DeviceText text={subkey} mark={false} />
                </button>
              </li>
            ))}
          </ul>
          <DeviceActionForm
            class="device-access__connect"
            name="registryNewKey"
            placeholder="New subkey name"
            label="Name of a new subkey"
            maxLength={255}
            value={newKey}
            onInput={setNewKey}
            action="Create key"
            disabled={newKey.trim() === '' || newKey.includes('\\')}
            onSubmit={() => void createKey()}
            testIds={{ input: 'registry-new-key', button: 'registry-create-key' }}
          />
          {draft && (
            <RegistryEditForm
              draft={draft}
              onChange={setDraft}
              onSave={() => void save(draft)}
              onCancel={() => setDraft(null)}
            />
          )}
        </div>
      }
      onClose={onClose}
      state={tool}
      reported="Names and data"
      columns={COLUMNS}
      row={{ testId: 'registry-value-row', data: 'name', key: (entry) => entry.name }}
      actions={(entry) => (
        <>
          <button
            type="button"
            class="btn btn--secondary btn--small"
            data-testid="registry-value-edit"
            onClick={() => setDraft(draftOf(entry))}
          >
            Edit
          </button>
          <ConfirmButton
            confirmLabel={`Delete ${entry.name || '(Default)'}?`}
            onConfirm={() => void deleteValue(entry)}
            testId="registry-value-delete"
          >
            Delete
          </ConfirmButton>
        </>
      )}
    />
  );
}

interface RegistryEditFormProps {
  draft: Draft;
  onChange(draft: Draft): void;
  onSave(): void;
  onCancel(): void;
}

/** The edit dialog of a value: its name (fixed for a value that is there), type and data. */
function RegistryEditForm({ draft, onChange, onSave, onCancel }: RegistryEditFormProps) {
  const numeric = draft.type === 'REG_DWORD' || draft.type === 'REG_QWORD';
  return (
    <form
      class="card registry__edit"
      aria-label="Edit value"
      data-testid="registry-edit"
      onSubmit={(event) => {
        event.preventDefault();
        onSave();
      }}
    >
      <label class="field">
        <span class="field__label">Name (empty: the default value)</span>
        <input
          class="input"
          name="registryName"
          maxLength={255}
          data-testid="registry-edit-name"
          disabled={draft.existing}
          value={draft.name}
          onInput={(event) => onChange({ ...draft, name: event.currentTarget.value })}
        />
      </label>
      <label class="field">
        <span class="field__label">Type</span>
        <select
          class="select"
          name="registryType"
          data-testid="registry-edit-type"
          value={draft.type}
          onChange={(event) => onChange({ ...draft, type: event.currentTarget.value as RegistryType })}
        >
          {REGISTRY_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </label>
      <label class="field" htmlFor="registry-edit-data">
        <span class="field__label">
          {draft.type === 'REG_MULTI_SZ' ? 'Data (one string a line)' : numeric ? 'Data (decimal)' : 'Data'}
        </span>
        {draft.type === 'REG_MULTI_SZ' ? (
          <textarea
            class="input"
            name="registryData"
            rows={4}
            id="registry-edit-data"
            data-testid="registry-edit-data"
            value={draft.data}
            onInput={(event) => onChange({ ...draft, data: event.currentTarget.value })}
          />
        ) : (
          <input
            class="input"
            name="registryData"
            inputMode={numeric ? 'numeric' : undefined}
            id="registry-edit-data"
            data-testid="registry-edit-data"
            value={draft.data}
            onInput={(event) => onChange({ ...draft, data: event.currentTarget.value })}
          />
        )}
      </label>
      <div class="device-access__connect">
        <button type="submit" class="btn btn--primary btn--small" data-testid="registry-edit-save">
          Save
        </button>
        <button type="button" class="btn btn--secondary btn--small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
