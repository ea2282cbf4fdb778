import { useEffect, useRef, useState } from 'preact/hooks';
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
import { FilterBar } from '../common/filter-bar.tsx';
import { LoadMore } from '../common/load-more.tsx';
import { PageHeader } from '../common/page-header.tsx';
import { ErrorBanner } from '../error-banner.tsx';
import { DeviceProcesses } from './device-processes.tsx';
import { DeviceRegistry } from './device-registry.tsx';
import { DeviceServices } from './device-services.tsx';
import { DevicesTable } from './devices-table.tsx';

/** How often the list is read again so online and offline stay true, in milliseconds. */
const REFRESH_MS = 10_000;
/** Devices per page. */
const PAGE_SIZE = 50;

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
  const [filter, setFilter] = useState<DeviceFilter>({});
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [groups, setGroups] = useState<DeviceGroup[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const shown = useRef(0);
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

  /** The first page again (as many devices as are shown), or the next page after `cursor`. */
  const load = async (cursor: string | null) => {
    const mine = cursor ? generation.current : ++generation.current;
    setLoading(true);
    try {
      const limit = cursor ? PAGE_SIZE : Math.min(500, Math.max(PAGE_SIZE, shown.current));
      const page = await listDevices(filter, cursor, limit);
      if (mine !== generation.current) return;
      setDevices((before) => {
        const next = cursor ? [...(before ?? []), ...page.items] : page.items;
        shown.current = next.length;
        return next;
      });
      setNextCursor(page.nextCursor);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) setError(errorText(caught, 'The devices could not be loaded.'));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    shown.current = 0;
    void load(null);
    const timer = setInterval(() => void load(null), REFRESH_MS);
    return () => clearInterval(timer);
  }, [filter]);

  const changeFilter = (next: DeviceFilter) => {
    setFilter(next);
    setDevices(null);
    setNextCursor(null);
  };
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
        <label class="field">
          <span class="field__label">Name</span>
          <input
            class="input"
            name="search"
            placeholder="Any name"
            spellcheck={false}
            data-testid="devices-search"
            value={draft.search ?? ''}
            onInput={(event) => setDraft({ ...draft, search: event.currentTarget.value })}
          />
        </label>
        <label class="field">
          <span class="field__label">Group</span>
          <select
            class="select"
            name="group"
            data-testid="devices-group"
            value={draft.group ?? ''}
            onChange={(event) => setDraft({ ...draft, group: event.currentTarget.value || undefined })}
          >
            <option value="">Any group</option>
            {groups.map((group) => (
              <option key={group.id} value={group.id}>
                {group.name}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span class="field__label">Status</span>
          <select
            class="select"
            name="status"
            data-testid="devices-status"
            value={draft.status ?? ''}
            onChange={(event) =>
              setDraft({
                ...draft,
                status: (event.currentTarget.value || undefined) as DeviceFilter['status'],
              })
            }
          >
            <option value="">Any status</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
          </select>
        </label>
      </FilterBar>
      {error && <ErrorBanner message={error} onRetry={() => void load(null)} />}
      {processesOf && (
        <DeviceProcesses key={processesOf.id} device={processesOf} onClose={() => setProcessesOf(null)} />
      )}
      {servicesOf && (
        <DeviceServices key={servicesOf.id} device={servicesOf} onClose={() => setServicesOf(null)} />
      )}
      {registryOf && (
        <DeviceRegistry key={registryOf.id} device={registryOf} onClose={() => setRegistryOf(null)} />
      )}
      {devices === null && !error && <p class="empty">Loading…</p>}
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
