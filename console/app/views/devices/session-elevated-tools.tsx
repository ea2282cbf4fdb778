import { useEffect, useState } from 'preact/hooks';
import { deviceIsWindows } from '../../../../protocol/api/devices.ts';
import { getDevice, mayUseElevatedToolsUnder } from '../../api/devices.ts';
import { listGroups } from '../../api/groups.ts';
import { can } from '../../api/scopes.ts';
import type { Device, Identity, Policy, SessionGrant } from '../../api/types.ts';
import { DeviceText } from '../common/device-text.tsx';
import { DeviceProcesses } from './device-processes.tsx';
import { DeviceRegistry } from './device-registry.tsx';
import { DeviceServices } from './device-services.tsx';

export interface SessionElevatedToolsProps {
  grant: SessionGrant;
  identity: Identity;
}

type Tool = 'processes' | 'services' | 'registry';

/** Each tool's panel, the same the Devices page opens. */
const PANELS = { processes: DeviceProcesses, services: DeviceServices, registry: DeviceRegistry } as const;

/**
 * The "Elevated tools" menu of a session on a resident device (README, "Elevated tools"), where the
 * session's policy enables them for the operator's role: the task manager, the services and, on
 * Windows, the registry editor, each opening the Devices page's panel over the session. Nothing is
 * shown for a session that is not on a resident device, or that the policy does not allow. An
 * attended session the one-shot agent of an enrolled device started (linked by its presence proof,
 * `access` null) is its own group's: the device's group's policy decides, as the server does.
 */
export function SessionElevatedTools({ grant, identity }: SessionElevatedToolsProps) {
  const { deviceId, policy, access } = grant.session;
  const linked = Boolean(deviceId) && access === null;
  const mayAsk = Boolean(deviceId) && can(identity.scopes, 'sessions:write');
  const [device, setDevice] = useState<Device | null>(null);
  const [devicePolicy, setDevicePolicy] = useState<Policy | null>(null);
  const [open, setOpen] = useState<Tool | null>(null);

  useEffect(() => {
    if (!mayAsk || !deviceId) return;
    void getDevice(deviceId)
      .then(async (found) => {
        if (linked) setDevicePolicy((await listGroups()).find((g) => g.id === found.groupId)?.policy ?? null);
        setDevice(found);
      })
      .catch(() => setDevice(null));
  }, [deviceId, mayAsk, linked]);

  const allowed = mayAsk && mayUseElevatedToolsUnder(identity, linked ? devicePolicy : policy);
  if (!allowed || !device) return null;
  const tools: [Tool, string][] = [
    ['processes', 'Processes'],
    ['services', 'Services'],
    ...(deviceIsWindows(device.reported.os) ? ([['registry', 'Registry']] as [Tool, string][]) : []),
  ];
  const Panel = open ? PANELS[open] : null;
  return (
    <div class="session-elevated" data-testid="session-elevated-tools">
      <details class="session-elevated__menu">
        <summary class="btn btn--secondary btn--small" data-testid="session-elevated-menu">
          Elevated tools on <DeviceText text={device.reported.hostname} mark={false} />
        </summary>
        <ul>
          {tools.map(([tool, label]) => (
            <li key={tool}>
              <button
                type="button"
                class="btn btn--link btn--small"
                data-testid={`session-elevated-${tool}`}
                onClick={(event) => {
                  event.currentTarget.closest('details')?.removeAttribute('open');
                  setOpen(tool);
                }}
              >
                {label}
              </button>
            </li>
          ))}
        </ul>
      </details>
      {Panel && (
        <div class="session-elevated__panel">
          <Panel key={open} device={device} onClose={() => setOpen(null)} />
        </div>
      )}
    </div>
  );
}
