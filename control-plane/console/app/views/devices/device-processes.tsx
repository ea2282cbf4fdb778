import { useEffect, useState } from 'preact/hooks';
import type { ProcessInfo } from '../../../../../protocol/device-orders.ts';
import { errorText } from '../../api/client.ts';
import { endProcess, listProcesses } from '../../api/devices.ts';
import type { Device } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';

export interface DeviceProcessesProps {
  device: Device;
  onClose(): void;
}

/**
 * Elevated tools → Processes (README, "Elevated tools"): the device's processes as its resident
 * service sees them, filtered by name, each with End task behind a confirmation.
 */
export function DeviceProcesses({ device, onClose }: DeviceProcessesProps) {
  const [filter, setFilter] = useState('');
  const [list, setList] = useState<{ processes: ProcessInfo[]; total: number } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (name: string) => {
    try {
      setList(await listProcesses(device.id, name.trim()));
      setError(null);
    } catch (caught) {
      setError(errorText(caught, 'The processes could not be listed.'));
    }
  };
  useEffect(() => void load(''), [device.id]);

  const end = async (entry: ProcessInfo) => {
    try {
      const ended = await endProcess(device.id, entry.pid);
      setMessage(`Ended ${ended.name} (${ended.pid}) with ${ended.signal}.`);
      await load(filter);
    } catch (caught) {
      setError(errorText(caught, 'The process could not be ended.'));
    }
  };

  return (
    <section class="card" data-testid="device-processes">
      <h2>
        Elevated tools → Processes on <DeviceText text={device.reported.hostname} mark={false} />
      </h2>
      <form
        class="device-access__connect"
        onSubmit={(event) => {
          event.preventDefault();
          void load(filter);
        }}
      >
        <input
          class="input"
          name="processFilter"
          placeholder="Part of a process name"
          aria-label="Filter processes by name"
          data-testid="processes-filter"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
        />
        <button type="submit" class="btn btn--secondary btn--small" data-testid="processes-apply">
          Filter
        </button>
        <button type="button" class="btn btn--secondary btn--small" onClick={onClose}>
          Close
        </button>
      </form>
      {message && (
        <p class="cell-sub" role="status" data-testid="processes-message">
          {message}
        </p>
      )}
      {error && (
        <p class="cell-sub device-access__error" role="alert" data-testid="processes-error">
          {error}
        </p>
      )}
      {list && (
        <>
          <p class="cell-sub">
            {list.processes.length} of {list.total} processes, the busiest first. Names and users are
            <strong> reported by the device</strong>.
          </p>
          <table class="table" data-testid="processes">
            <thead>
              <tr>
                <th>PID</th>
                <th>Name</th>
                <th>User</th>
                <th>CPU %</th>
                <th>Memory</th>
                <th class="table__actions-head">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.processes.map((entry) => (
                <tr key={entry.pid} data-testid="process-row" data-pid={entry.pid}>
                  <td class="cell-mono">{entry.pid}</td>
                  <td>
                    <DeviceText text={entry.name} mark={false} />
                  </td>
                  <td>
                    <DeviceText text={entry.user} mark={false} />
                  </td>
                  <td>{entry.cpu.toFixed(1)}</td>
                  <td class="cell-nowrap">{Math.round(entry.memoryKiB / 1024)} MiB</td>
                  <td class="table__actions">
                    <ConfirmButton
                      confirmLabel={`End ${entry.pid} for good?`}
                      onConfirm={() => void end(entry)}
                      testId="process-end"
                    >
                      End task
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
