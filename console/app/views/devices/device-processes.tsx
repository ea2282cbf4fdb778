import { useState } from 'preact/hooks';
import type { ProcessInfo } from '../../../../protocol/device-orders.ts';
import { endProcess, listProcesses } from '../../api/devices.ts';
import type { Device } from '../../api/types.ts';
import { ConfirmButton } from '../common/confirm-button.tsx';
import { DeviceText } from '../common/device-text.tsx';
import { DeviceActionForm } from './device-action-form.tsx';
import { type ElevatedToolColumn, ElevatedToolTable, useElevatedTool } from './elevated-tool-table.tsx';

export interface DeviceProcessesProps {
  device: Device;
  onClose(): void;
}

const COLUMNS: ElevatedToolColumn<ProcessInfo>[] = [
  { head: 'PID', class: 'cell-mono', cell: (entry) => entry.pid },
  { head: 'Name', cell: (entry) => <DeviceText text={entry.name} mark={false} /> },
  { head: 'User', cell: (entry) => <DeviceText text={entry.user} mark={false} /> },
  { head: 'CPU %', cell: (entry) => entry.cpu.toFixed(1) },
  { head: 'Memory', class: 'cell-nowrap', cell: (entry) => `${Math.round(entry.memoryKiB / 1024)} MiB` },
];

/**
 * Elevated tools → Processes (README, "Elevated tools"): the device's processes as its resident
 * service sees them, filtered by name, each with End task behind a confirmation.
 */
export function DeviceProcesses({ device, onClose }: DeviceProcessesProps) {
  const [filter, setFilter] = useState('');
  const tool = useElevatedTool(
    async () => {
      const { processes, total } = await listProcesses(device.id, filter.trim());
      return { entries: processes, total };
    },
    'The processes could not be listed.',
    [device.id],
  );
  const end = (entry: ProcessInfo) =>
    tool.act(async () => {
      const ended = await endProcess(device.id, entry.pid);
      return `Ended ${ended.name} (${ended.pid}) with ${ended.signal}.`;
    }, 'The process could not be ended.');

  return (
    <ElevatedToolTable
      device={device}
      tool="processes"
      controls={
        <DeviceActionForm
          class="device-access__connect"
          name="processFilter"
          placeholder="Part of a process name"
          label="Filter processes by name"
          value={filter}
          onInput={setFilter}
          action="Filter"
          disabled={false}
          onSubmit={() => void tool.reload()}
          testIds={{ input: 'processes-filter', button: 'processes-apply' }}
        />
      }
      onClose={onClose}
      state={tool}
      order="the busiest first"
      reported="Names and users"
      columns={COLUMNS}
      row={{ testId: 'process-row', data: 'pid', key: (entry) => entry.pid }}
      actions={(entry) => (
        <ConfirmButton
          confirmLabel={`End ${entry.pid} for good?`}
          onConfirm={() => void end(entry)}
          testId="process-end"
        >
          End task
        </ConfirmButton>
      )}
    />
  );
}
