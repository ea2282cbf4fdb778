import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../../api/client.ts';
import type { Device } from '../../api/types.ts';
import { DeviceText } from '../common/device-text.tsx';

/** What an elevated tool lists: the entries shown and how many the device has. */
export interface ElevatedToolList<Entry> {
  entries: Entry[];
  total: number;
}

/**
 * An elevated tool's state: the list `load` gives (loaded on mount and by `reload`), the last action's
 * outcome and the last failure. `act` runs an action whose result is the message to show, then reloads.
 * `load` is read afresh on every call, so it may close over the tool's current filter.
 * @example
 * const tool = useElevatedTool(async () => entriesOf(await listServices(id)), 'The services could not be listed.', [id]);
 * tool.act(async () => `Stopped ${unit}.`, 'The service could not stop.');
 */
export function useElevatedTool<Entry>(
  load: () => Promise<ElevatedToolList<Entry>>,
  loadFailure: string,
  deps: readonly unknown[],
) {
  const [list, setList] = useState<ElevatedToolList<Entry> | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(load);
  latest.current = load;

  const reload = async () => {
    try {
      setList(await latest.current());
      setError(null);
    } catch (caught) {
      setError(errorText(caught, loadFailure));
    }
  };
  useEffect(() => void reload(), deps);

  const act = async (action: () => Promise<string>, failure: string) => {
    try {
      setMessage(await action());
      await reload();
    } catch (caught) {
      setError(errorText(caught, failure));
    }
  };
  return { list, message, error, reload, act };
}

/** One column of an elevated tool's table: its heading and what each entry shows in it. */
export interface ElevatedToolColumn<Entry> {
  head: string;
  class?: string;
  cell(entry: Entry): ComponentChildren;
}

export interface ElevatedToolTableProps<Entry> {
  device: Device;
  /** The tool's name, plural and lower case ("processes"): its heading and the test ids it shows. */
  tool: string;
  /** What stands before Close: a filter or a Refresh button. */
  controls: ComponentChildren;
  onClose(): void;
  state: { list: ElevatedToolList<Entry> | null; message: string | null; error: string | null };
  /** After "n of total <tool>" (", the busiest first"). */
  order?: string;
  /** What of each entry the device reports ("Names and users"). */
  reported: string;
  columns: ElevatedToolColumn<Entry>[];
  /** Each row's key, `data-testid` and `data-*` attribute (`data-pid`). */
  row: { testId: string; data: string; key(entry: Entry): string | number };
  actions(entry: Entry): ComponentChildren;
}

/**
 * The page of an elevated tool (README, "Elevated tools"): what the device's resident service lists,
 * with the tool's controls, the last action's outcome or failure, and each entry's actions.
 * Test ids: `device-<tool>` (the card), `<tool>-message`, `<tool>-error`, `<tool>` (the table).
 */
export function ElevatedToolTable<Entry>(props: ElevatedToolTableProps<Entry>) {
  const { device, tool, state, row } = props;
  const title = tool.charAt(0).toUpperCase() + tool.slice(1);
  return (
    <section class="card" data-testid={`device-${tool}`}>
      <h2>
        Elevated tools → {title} on <DeviceText text={device.reported.hostname} mark={false} />
      </h2>
      <div class="device-access__connect">
        {props.controls}
        <button type="button" class="btn btn--secondary btn--small" onClick={props.onClose}>
          Close
        </button>
      </div>
      {state.message && (
        <p class="cell-sub" role="status" data-testid={`${tool}-message`}>
          {state.message}
        </p>
      )}
      {state.error && (
        <p class="cell-sub device-access__error" role="alert" data-testid={`${tool}-error`}>
          {state.error}
        </p>
      )}
      {state.list && (
        <>
          <p class="cell-sub">
            {state.list.entries.length} of {state.list.total} {tool}
            {props.order ? `, ${props.order}` : ''}. {props.reported} are
            <strong> reported by the device</strong>.
          </p>
          <table class="table" data-testid={tool}>
            <thead>
              <tr>
                {props.columns.map((column) => (
                  <th key={column.head}>{column.head}</th>
                ))}
                <th class="table__actions-head">Actions</th>
              </tr>
            </thead>
            <tbody>
              {state.list.entries.map((entry) => (
                <tr
                  key={row.key(entry)}
                  data-testid={row.testId}
                  {...{ [`data-${row.data}`]: row.key(entry) }}
                >
                  {props.columns.map((column) => (
                    <td key={column.head} class={column.class}>
                      {column.cell(entry)}
                    </td>
                  ))}
                  <td class="table__actions">{props.actions(entry)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
