import { deviceIsWindows } from '../../../../protocol/api/devices.ts';
import type { Device, DeviceGroup, SessionGrant } from '../../api/types.ts';
import { formatDateTime } from '../../format/time.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';
import { TableCard } from '../common/table-card.tsx';
import { DeviceAccess } from './device-access.tsx';

export interface DevicesTableProps {
  devices: Device[];
  groups: DeviceGroup[];
  empty: string;
  /** Shown only to operators who may forget devices. */
  onForget?: ((device: Device) => void) | undefined;
  /** Offered on online devices whose group's policy allows it for the operator (`mayBackground`). */
  onBackgroundAccess?: ((device: Device) => void) | undefined;
  mayBackground?: ((device: Device) => boolean) | undefined;
  /** Whose shell background access on a device will be (`backgroundRunsAs`); null: nobody's. */
  runsAs?: ((device: Device) => { user: string; elevated: boolean } | null) | undefined;
  /** The device whose background access is being opened, if any. */
  opening?: string | null | undefined;
  /** Elevated tools → Processes, offered on online devices where `mayElevated` says so. */
  onProcesses?: ((device: Device) => void) | undefined;
  /** Elevated tools → Services, offered where `mayElevated` says so. */
  onServices?: ((device: Device) => void) | undefined;
  /** Elevated tools → Registry, offered where `mayElevated` says so on devices that report Windows. */
  onRegistry?: ((device: Device) => void) | undefined;
  /** Elevated tools → Administrator shell, offered where `mayElevated` says so. */
  onAdminShell?: ((device: Device) => void) | undefined;
  mayElevated?: ((device: Device) => boolean) | undefined;
  /** Shown only to operators who may open sessions: unattended access and offering help. */
  onJoined?: ((grant: SessionGrant) => void) | undefined;
}

interface RowActionProps {
  testId: string;
  /** What the action does, shown on hover. */
  title: string;
  label: string;
  /** Waiting for another action to finish (a session being opened). */
  busy?: boolean;
  onClick(): void;
}

/** One action button in a device's row. */
function RowAction({ testId, title, label, busy, onClick }: RowActionProps) {
  return (
    <button
      type="button"
      class="btn btn--secondary btn--small"
      data-testid={testId}
      title={title}
      disabled={busy}
      onClick={onClick}
    >
      {label}
    </button>
  );
}

/** Enrolled devices: what each reports (marked as such), its group, whether it is online, last seen. */
export function DevicesTable({
  devices,
  groups,
  empty,
  onForget,
  onBackgroundAccess,
  mayBackground,
  runsAs,
  opening,
  onJoined,
  onProcesses,
  onAdminShell,
  onServices,
  onRegistry,
  mayElevated,
}: DevicesTableProps) {
  if (devices.length === 0) {
    return (
      <section class="card">
        <p class="empty" data-testid="devices-empty">
          {empty}
        </p>
      </section>
    );
  }
  const groupName = (id: string) => groups.find((group) => group.id === id)?.name ?? id.slice(0, 8);
  const background = (device: Device) =>
    Boolean(onBackgroundAccess && device.status === 'online' && mayBackground?.(device));
  const elevated = (device: Device) =>
    Boolean(onProcesses && device.status === 'online' && mayElevated?.(device));
  const actions = Boolean(onForget || devices.some(background) || devices.some(elevated));
  return (
    <TableCard
      testId="devices"
      heads={[
        'Device',
        'System',
        'Console user',
        'Group',
        'Status',
        'Last seen',
        'Agent',
        Boolean(onJoined) && 'Screen session',
      ]}
      actions={actions}
      banner={
        <p class="table-card__banner cell-sub">
          Names, systems and users are <strong>reported by the device</strong>; Lifeline does not verify them.
        </p>
      }
    >
      {devices.map((device) => (
        <tr key={device.id} data-testid="device-row" data-device-id={device.id} data-status={device.status}>
          <td class="cell-title">
            <DeviceText text={device.reported.hostname} mark={false} />
          </td>
          <td>{device.reported.os ? <DeviceText text={device.reported.os} mark={false} /> : '—'}</td>
          <td>
            {device.reported.consoleUser ? (
              <DeviceText text={device.reported.consoleUser} mark={false} />
            ) : (
              '—'
            )}
          </td>
          <td>{groupName(device.groupId)}</td>
          <td>
            <span class={`status-pill status-pill--${device.status}`} data-testid="device-status">
              {device.status}
            </span>
          </td>
          <td class="cell-nowrap">{formatDateTime(device.lastSeenAt)}</td>
          <td class="cell-mono">
            {device.reported.agentVersion ? (
              <DeviceText text={device.reported.agentVersion} mark={false} />
            ) : (
              '—'
            )}
          </td>
          {onJoined && (
            <td>{device.status === 'online' ? <DeviceAccess device={device} onJoined={onJoined} /> : '—'}</td>
          )}
          {actions && (
            <td class="table__actions">
              {background(device) && (
                <BackgroundAccessButton
                  runsAs={runsAs?.(device)}
                  opening={opening === device.id}
                  disabled={Boolean(opening)}
                  onOpen={() => onBackgroundAccess?.(device)}
                />
              )}
              {elevated(device) && (
                <RowAction
                  testId="device-processes-open"
                  title="Elevated tools: the processes of this device, run by its resident service"
                  label="Elevated tools → Processes"
                  onClick={() => onProcesses?.(device)}
                />
              )}
              {elevated(device) && onServices && (
                <RowAction
                  testId="device-services-open"
                  title="Elevated tools: the services of this device, run by its resident service"
                  label="Elevated tools → Services"
                  onClick={() => onServices(device)}
                />
              )}
              {elevated(device) && onRegistry && deviceIsWindows(device.reported.os) && (
                <RowAction
                  testId="device-registry-open"
                  title="Elevated tools: the registry of this Windows device, edited by its resident service"
                  label="Elevated tools → Registry"
                  onClick={() => onRegistry(device)}
                />
              )}
              {elevated(device) && onAdminShell && (
                <RowAction
                  testId="device-admin-shell"
                  title="Elevated tools: a shell as this device's resident service (root); its user is told"
                  busy={Boolean(opening)}
                  label={opening === device.id ? 'Opening…' : 'Elevated tools → Administrator shell'}
                  onClick={() => onAdminShell(device)}
                />
              )}
              {onForget && (
                <ConfirmButton
                  confirmLabel="Forget for good?"
                  onConfirm={() => onForget(device)}
                  testId="device-forget"
                >
                  Forget
                </ConfirmButton>
              )}
            </td>
          )}
        </tr>
      ))}
    </TableCard>
  );
}

/**
 * Background access, saying whose shell it will be: "as <user>" (the console user, shown inert as
 * the device reported it) or "as root (elevated)"; disabled while nobody is logged in and the
 * operator has no elevation, since the device would refuse.
 */
function BackgroundAccessButton({
  runsAs,
  opening,
  disabled,
  onOpen,
}: {
  runsAs: { user: string; elevated: boolean } | null | undefined;
  opening: boolean;
  disabled: boolean;
  onOpen: () => void;
}) {
  const nobody = runsAs === null;
  return (
    <button
      type="button"
      class="btn btn--secondary btn--small"
      data-testid="device-background-access"
      title={
        nobody
          ? 'Nobody is logged in at its console, and your role has no elevated tools on it'
          : 'A shell and the files of this device, without its screen'
      }
      disabled={disabled || nobody}
      onClick={onOpen}
    >
      {opening ? (
        'Opening…'
      ) : (
        <>
          Background access{' '}
          <span class="cell-sub" data-testid="device-runs-as">
            {runsAs === undefined
              ? ''
              : nobody
                ? '(nobody logged in)'
                : runsAs.elevated
                  ? 'as root (elevated)'
                  : `as ${runsAs.user}`}
          </span>
        </>
      )}
    </button>
  );
}
