import { formatBytes, formatRate } from '../../format/bytes.ts';
import { formatDuration } from '../../format/time.ts';
import type { TransferState } from './transfer.ts';

/** "1.20 MB of 5.00 MB · 800 kB/s · 5 s left", or what the transfer is waiting for. */
export function transferLine(item: TransferState): string {
  const of =
    item.size === null ? formatBytes(item.bytes) : `${formatBytes(item.bytes)} of ${formatBytes(item.size)}`;
  switch (item.status) {
    case 'offered':
      return 'Waiting for the user to accept the file…';
    case 'refused':
      return 'Refused by the user.';
    case 'starting':
      return item.bytes > 0 ? `Resuming at ${formatBytes(item.bytes)}…` : 'Starting…';
    case 'running': {
      const parts = [of];
      parts.push(item.rate === null ? 'measuring speed…' : formatRate(item.rate));
      if (item.eta !== null) parts.push(`${formatDuration(item.eta * 1000)} left`);
      return parts.join(' · ');
    }
    case 'verifying':
      return `${of} · checking…`;
    case 'exists':
      return `${item.name} already exists in this folder.`;
    case 'interrupted':
      return `${of} · paused until the connection is back`;
    case 'paused':
      return `${of} · paused`;
    case 'done':
      if (item.acceptedAs !== null)
        return `Accepted by the user · saved as ${item.acceptedAs} · ${formatBytes(item.size ?? item.bytes)}`;
      return `Done · ${formatBytes(item.size ?? item.bytes)}`;
    case 'failed':
      return item.error ?? 'Failed.';
    case 'cancelled':
      return `Cancelled at ${of}`;
  }
}
