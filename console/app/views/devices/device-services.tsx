import type { ServiceAction, ServiceInfo } from '../../../../protocol/device-orders.ts';
import { listServices, serviceAction } from '../../api/devices.ts';
import type { Device } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';
import { type ElevatedToolColumn, ElevatedToolTable, useElevatedTool } from './elevated-tool-table.tsx';

export interface DeviceServicesProps {
  device: Device;
  onClose(): void;
}

const DONE: Record<ServiceAction, string> = { start: 'Started', stop: 'Stopped', restart: 'Restarted' };

const COLUMNS: ElevatedToolColumn<ServiceInfo>[] = [
  { head: 'Unit', class: 'cell-mono', cell: (entry) => <DeviceText text={entry.unit} mark={false} /> },
  { head: 'State', cell: (entry) => <DeviceText text={`${entry.active} (${entry.sub})`} mark={false} /> },
  { head: 'Description', cell: (entry) => <DeviceText text={entry.description} mark={false} /> },
];

/**
 * Elevated tools → Services (README, "Elevated tools"): the device's services as its service
 * manager lists them, each with Start, and Stop and Restart behind a confirmation.
 */
export function DeviceServices({ device, onClose }: DeviceServicesProps) {
  const tool = useElevatedTool(
    async () => {
      const { services, total } = await listServices(device.id);
      return { entries: services, total };
    },
    'The services could not be listed.',
    [device.id],
  );
  const act = (entry: ServiceInfo, action: ServiceAction) =>
    tool.act(async () => {
      await serviceAction(device.id, entry.unit, action);
      return `${DONE[action]} ${entry.unit}.`;
    }, `The service could not ${action}.`);

  return (
    <ElevatedToolTable
      device={device}
      tool="services"
      controls={
        <button type="button" class="btn btn--secondary btn--small" onClick={() => void tool.reload()}>
          Refresh
        </button>
      }
      onClose={onClose}
      state={tool}
      reported="Names and states"
      columns={COLUMNS}
      row={{ testId: 'service-row', data: 'unit', key: (entry) => entry.unit }}
      actions={(entry) => (
        <>
          <button
            type="button"
            class="btn btn--secondary btn--small"
            data-testid="service-start"
            onClick={() => void act(entry, 'start')}
          >
            Start
          </button>
          <ConfirmButton
            confirmLabel={`Stop ${entry.unit}?`}
            onConfirm={() => void act(entry, 'stop')}
            testId="service-stop"
          >
            Stop
          </ConfirmButton>
          <ConfirmButton
            confirmLabel={`Restart ${entry.unit}?`}
            onConfirm={() => void act(entry, 'restart')}
            testId="service-restart"
          >
            Restart
          </ConfirmButton>
        </>
      )}
    />
  );
}
