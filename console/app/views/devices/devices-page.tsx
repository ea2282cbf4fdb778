import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../../api/client.ts';
import {
  backgroundRunsAs,
  type DeviceFilter,
  forgetDevice,
  listDevices,
  mayUseBackgroundAccess,
  mayUseElevatedTools,
  openBackgroundAccess,
} from '../../api/devices.ts';
import { listGroups } from '../../api/groups.ts';
import { can } from '../../api/scopes.ts';
import type { Device, DeviceGroup, Identity, SessionGrant } from '../../api/types.ts';
import { SelectField, TextField } from '../common/fields.tsx';
import { FilterBar } from '../common/filter-bar.tsx';
import { LoadMore } from '../common/load-more.tsx';
import { LoadStatus } from '../common/load-status.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { usePagedList } from '../common/use-paged-list.ts';
import { DeviceProcesses } from './device-processes.tsx';
import { DeviceRegistry } from './device-registry.tsx';
import { DeviceServices } from './device-services.tsx';
import { DevicesTable } from './devices-table.tsx';

/** How often the list is read again so online and offline stay true, in milliseconds. */
const REFRESH_MS = 10_000;
/** Devices per page. */
const PAGE_SIZE = 50;
const STATUS_CHOICES = [
  { value: '', label: 'Any status' },
  { value: 'online', label: 'Online' },
  { value: 'offline', label: 'Offline' },
];

export interface DevicesPageProps {
  identity: Identity;
  /** A session opened on a device (background access, unattended, offered help) was joined: show it. */
  onJoined(grant: SessionGrant): void;
}

/**
 * Every enrolled device, a page at a time (`Load more`), searched by name and filtered by group and
 * status; read again every few seconds so a device that went offline shows as such.
 */
export function DevicesPage({ identity, onJoined }: DevicesPageProps) {
  const [draft, setDraft] = useState<DeviceFilter>({});
  const {
    filter,
    changeFilter,
    items: devices,
    nextCursor,
    loading,
    error,
    setError,
    load,
  } = usePagedList<Device, DeviceFilter>({
    initialFilter: {},
    // A refresh reads as many devices as are shown (up to 500), so none drops off the page.
    fetchPage: (filter, cursor, shown) =>
      listDevices(filter, cursor, cursor ? PAGE_SIZE : Math.min(500, Math.max(PAGE_SIZE, shown))),
    failure: 'The devices could not be loaded.',
    refreshMs: REFRESH_MS,
  });
  const [groups, setGroups] = useState<DeviceGroup[]>([]);
  const canForget = can(identity.scopes, 'devices:write');
  const canOpen = can(identity.scopes, 'sessions:write');
  const [opening, setOpening] = useState<string | null>(null);
  const [processesOf, setProcessesOf] = useState<Device | null>(null);
  const [servicesOf, setServicesOf] = useState<Device | null>(null);
  const [registryOf, setRegistryOf] = useState<Device | null>(null);
  const groupOf = (device: Device) => groups.find((group) => group.id === device.groupId);

  useEffect(() => {
    void listGroups()
      .then(setGroups)
      .catch(() => setGroups([]));
  }, [identity]);

  const apply = () => {
    changeFilter({
      search: draft.search?.trim() || undefined,
      group: draft.group || undefined,
      status: draft.status || undefined,
    });
  };
  const clear = () => {
    setDraft({});
    changeFilter({});
  };
  const forget = async (device: Device) => {
    try {
      await forgetDevice(device.id);
      await load(null);
    } catch (caught) {
      setError(errorText(caught, 'The device could not be forgotten.'));
    }
  };
  const background = async (device: Device, elevated = false) => {
    setOpening(device.id);
    try {
      onJoined(await openBackgroundAccess(device.id, elevated));
    } catch (caught) {
      const what = elevated ? 'The administrator shell' : 'Background access';
      setError(errorText(caught, `${what} could not be opened.`));
    } finally {
      setOpening(null);
    }
  };
  const filtered = Boolean(filter.search || filter.group || filter.status);

  return (
    <main class="page page--wide">
      <PageHeader
        title="Devices"
        lead="Computers enrolled with a registration key, running the resident agent. Online means its agent is connected now."
      />
      <FilterBar
        testId="devices-filter"
        applyTestId="devices-apply"
        filtered={filtered}
        onApply={apply}
        onClear={clear}
      >
        <TextField
          label="Name"
          name="search"
          placeholder="Any name"
          spellcheck={false}
          testId="devices-search"
          value={draft.search ?? ''}
          onValue={(search) => setDraft({ ...draft, search })}
        />
        <SelectField
          label="Group"
          name="group"
          selectClass="select"
          testId="devices-group"
          value={draft.group ?? ''}
          onValue={(group) => setDraft({ ...draft, group: group || undefined })}
          choices={[
            { value: '', label: 'Any group' },
            ...groups.map((group) => ({ value: group.id, label: group.name })),
          ]}
        />
        <SelectField
          label="Status"
          name="status"
          selectClass="select"
          testId="devices-status"
          value={draft.status ?? ''}
          onValue={(status) =>
            setDraft({ ...draft, status: (status || undefined) as DeviceFilter['status'] })
          }
          choices={STATUS_CHOICES}
        />
      </FilterBar>
      <LoadStatus error={error} loaded={devices !== null} onRetry={() => void load(null)} />
      {processesOf && (
        <DeviceProcesses key={processesOf.id} device={processesOf} onClose={() => setProcessesOf(null)} />
      )}
      {servicesOf && (
        <DeviceServices key={servicesOf.id} device={servicesOf} onClose={() => setServicesOf(null)} />
      )}
      {registryOf && (
        <DeviceRegistry key={registryOf.id} device={registryOf} onClose={() => setRegistryOf(null)} />
      )}
      {devices && (
        <DevicesTable
          devices={devices}
          groups={groups}
          empty={
            filtered
              ? 'No devices match this filter.'
              : 'No devices enrolled yet. Enrol one with lifeline-agent install --key (see the README, "Devices").'
          }
          onForget={canForget ? (device) => void forget(device) : undefined}
          onBackgroundAccess={canOpen ? (device) => void background(device) : undefined}
          mayBackground={(device) => mayUseBackgroundAccess(identity, groupOf(device))}
          runsAs={(device) => backgroundRunsAs(identity, groupOf(device), device)}
          onProcesses={canOpen ? setProcessesOf : undefined}
          onServices={canOpen ? setServicesOf : undefined}
          onRegistry={canOpen ? setRegistryOf : undefined}
          onAdminShell={canOpen ? (device) => void background(device, true) : undefined}
          mayElevated={(device) => mayUseElevatedTools(identity, groupOf(device))}
          opening={opening}
          onJoined={canOpen ? onJoined : undefined}
        />
      )}
      {nextCursor && devices && (
        <LoadMore loading={loading} onLoad={() => void load(nextCursor)} testId="devices-more" />
      )}
    </main>
  );
}
