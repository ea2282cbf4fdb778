import { useEffect, useState } from 'preact/hooks';
import type { ServiceAction, ServiceInfo } from '../../../../../protocol/device-orders.ts';
import { errorText } from '../../api/client.ts';
import { listServices, serviceAction } from '../../api/devices.ts';
import type { Device } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';

export interface DeviceServicesProps {
  device: Device;
  onClose(): void;
}

const DONE: Record<ServiceAction, string> = { start: 'Started', stop: 'Stopped', restart: 'Restarted' };

/**
 * Elevated tools → Services (README, "Elevated tools"): the device's services as its service
 * manager lists them, each with Start, and Stop and Restart behind a confirmation.
 */
export function DeviceServices({ device, onClose }: DeviceServicesProps) {
  const [list, setList] = useState<{ services: ServiceInfo[]; total: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      setList(await listServices(device.id));
      setError(null);
    } catch (caught) {
      setError(errorText(caught, 'The services could not be listed.'));
    }
  };
  useEffect(() => void load(), [device.id]);

  const act = async (entry: ServiceInfo, action: ServiceAction) => {
    try {
      await serviceAction(device.id, entry.unit, action);
      setMessage(`${DONE[action]} ${entry.unit}.`);
      await load();
    } catch (caught) {
      setError(errorText(caught, `The service could not ${action}.`));
    }
  };

  return (
    <section class="card" data-testid="device-services">
      <h2>
        Elevated tools → Services on <DeviceText text={device.reported.hostname} mark={false} />
      </h2>
      <p>
        <button type="button" class="btn btn--secondary btn--small" onClick={() => void load()}>
          Refresh
        </button>{' '}
        <button type="button" class="btn btn--secondary btn--small" onClick={onClose}>
          Close
        </button>
      </p>
      {message && (
        <p class="cell-sub" role="status" data-testid="services-message">
          {message}
        </p>
      )}
      {error && (
        <p class="cell-sub device-access__error" role="alert" data-testid="services-error">
          {error}
        </p>
      )}
      {list && (
        <>
          <p class="cell-sub">
            {list.services.length} of {list.total} services. Names and states are
            <strong> reported by the device</strong>.
          </p>
          <table class="table" data-testid="services">
            <thead>
              <tr>
                <th>Unit</th>
                <th>State</th>
                <th>Description</th>
                <th class="table__actions-head">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.services.map((entry) => (
                <tr key={entry.unit} data-testid="service-row" data-unit={entry.unit}>
                  <td class="cell-mono">
                    <DeviceText text={entry.unit} mark={false} />
                  </td>
                  <td>
                    <DeviceText text={`${entry.active} (${entry.sub})`} mark={false} />
                  </td>
                  <td>
                    <DeviceText text={entry.description} mark={false} />
                  </td>
                  <td class="table__actions">
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
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
