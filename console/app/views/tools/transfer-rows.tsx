import { isSettled, type TransferState } from '../../tools/transfers/transfer.ts';
import type { TransferList } from '../../tools/transfers/transfer-list.ts';
import { transferLine } from '../../tools/transfers/transfer-text.ts';
import { IconButton } from '../common/icon-button.tsx';
import { useObservedState } from '../hooks.ts';
import { IconDownload, IconUpload, IconX } from '../icons.tsx';
import { WorkRowBody } from './work-row.tsx';

function percent(item: TransferState): number {
  if (item.status === 'done') return 100;
  if (!item.size) return 0;
  return Math.min(100, Math.floor((item.bytes / item.size) * 100));
}

/** One of a transfer's small text buttons (Pause, Resume, Cancel, Replace, Retry, Keep existing). */
export function RowButton(props: {
  testid: string;
  warning?: boolean;
  title?: string;
  onClick: () => void;
  children: string;
}) {
  return (
    <button
      type="button"
      class={`btn ${props.warning ? 'btn--warning' : 'btn--dark'} btn--small`}
      data-testid={props.testid}
      title={props.title}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/** Takes a finished row (a transfer, a whole action) off the list. */
export function DismissButton({ testid, onClick }: { testid: string; onClick: () => void }) {
  return (
    <IconButton label="Remove from the list" testId={testid} onClick={onClick}>
      <IconX size={14} />
    </IconButton>
  );
}

function TransferRow({ item, transfers }: { item: TransferState; transfers: TransferList }) {
  const under =
    item.status === 'starting' ||
    item.status === 'offered' ||
    item.status === 'running' ||
    item.status === 'verifying';
  const Icon = item.direction === 'download' ? IconDownload : IconUpload;
  return (
    <li
      class={`transfer transfer--${item.status}`}
      data-testid="transfer"
      data-direction={item.direction}
      data-status={item.status}
      data-name={item.name}
      data-bytes={item.bytes}
    >
      <WorkRowBody
        icon={Icon}
        name={item.name}
        nameTitle={item.path}
        percent={percent(item)}
        line={transferLine(item)}
        lineTestId="transfer-line"
        actions={
          <>
            {(item.status === 'starting' || item.status === 'running') && (
              <RowButton testid="transfer-pause" onClick={() => transfers.hold(item.id)}>
                Pause
              </RowButton>
            )}
            {item.status === 'paused' && (
              <RowButton testid="transfer-resume" onClick={() => transfers.proceed(item.id)}>
                Resume
              </RowButton>
            )}
            {(under || item.status === 'interrupted' || item.status === 'paused') && (
              <RowButton testid="transfer-cancel" onClick={() => transfers.cancel(item.id)}>
                Cancel
              </RowButton>
            )}
            {item.status === 'exists' && (
              <RowButton testid="transfer-replace" warning onClick={() => transfers.replace(item.id)}>
                Replace
              </RowButton>
            )}
            {item.status === 'failed' && (
              <RowButton testid="transfer-retry" onClick={() => transfers.retry(item.id)}>
                Retry
              </RowButton>
            )}
            {item.status === 'exists' && (
              <RowButton
                testid="transfer-keep"
                title="Leave the file on the device as it is"
                onClick={() => transfers.dismiss(item.id)}
              >
                Keep existing
              </RowButton>
            )}
            {isSettled(item.status) && (
              <DismissButton testid="transfer-dismiss" onClick={() => transfers.dismiss(item.id)} />
            )}
          </>
        }
      />
    </li>
  );
}

/** Every download and upload of the session, newest last, with progress, speed and time left. */
export function TransferRows({ transfers }: { transfers: TransferList }) {
  const state = useObservedState(transfers);
  if (state.items.length === 0) return null;
  return (
    <section class="transfers" aria-label="Transfers">
      <h3 class="transfers__title">Transfers</h3>
      <ul class="transfers__list" data-testid="transfers">
        {state.items.map((item) => (
          <TransferRow key={item.id} item={item} transfers={transfers} />
        ))}
      </ul>
    </section>
  );
}
