import { useEffect, useState } from 'preact/hooks';
import { deviceIsWindows } from '../../../../protocol/api/devices.ts';
import { getDevice, mayUseElevatedToolsUnder } from '../../api/devices.ts';
import { can } from '../../api/scopes.ts';
import type { Device, Identity, SessionGrant } from '../../api/types.ts';
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
 * shown for a session that is not on a resident device, or that the policy does not allow.
 */
export function SessionElevatedTools({ grant, identity }: SessionElevatedToolsProps) {
  const { deviceId, policy } = grant.session;
  const allowed =
    Boolean(deviceId) && can(identity.scopes, 'sessions:write') && mayUseElevatedToolsUnder(identity, policy);
  const [device, setDevice] = useState<Device | null>(null);
  const [open, setOpen] = useState<Tool | null>(null);

  useEffect(() => {
    if (!allowed || !deviceId) return;
    void getDevice(deviceId)
      .then(setDevice)
      .catch(() => setDevice(null));
  }, [deviceId, allowed]);

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
          Elevated tools
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
