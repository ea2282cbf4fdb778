import { formatBytes } from '../../format/bytes.ts';
import type { ActionKind, ActionState } from './whole-action.ts';

const VERB: Record<ActionKind, string> = {
  download: 'Download',
  upload: 'Upload',
  delete: 'Delete',
  copy: 'Copy',
  move: 'Move',
};

/** "Download photos.zip", "Delete 3 items". */
export function actionTitle(action: ActionState): string {
  return `${VERB[action.kind]} ${action.title}`;
}

/** "3 of 10 files · 1.20 MB of 5.00 MB", the counts of the progress. */
function counts(action: ActionState): string {
  const unit = action.kind === 'download' || action.kind === 'upload' ? 'files' : 'items';
  const parts = [`${action.filesDone} of ${action.filesTotal ?? '?'} ${unit}`];
  if (action.bytesTotal !== null)
    parts.push(`${formatBytes(action.bytesDone)} of ${formatBytes(action.bytesTotal)}`);
  return parts.join(' · ');
}

/** The line under a whole action's bar: its counts, the file under way, or why it stopped. */
export function actionLine(action: ActionState): string {
  const notes = action.notes.length > 0 ? ` · ${action.notes.join('; ')}` : '';
  switch (action.status) {
    case 'listing':
      return 'Listing the folders…';
    case 'asking':
      return action.question?.text ?? 'Waiting for your answer…';
    case 'running': {
      const parts = [counts(action)];
      if (action.step === 'offered') parts.push(`waiting for the user to accept ${action.current}`);
      else if (action.step === 'verifying' && action.current === null) parts.push('finishing…');
      else if (action.current !== null) parts.push(action.current);
      return parts.join(' · ') + notes;
    }
    case 'paused':
      return `${counts(action)} · paused`;
    case 'interrupted':
      return `${action.filesTotal === null ? 'Listing the folders' : counts(action)} · paused until the connection is back`;
    case 'done':
      return `Done · ${counts(action)}${notes}`;
    case 'failed':
      return action.error ?? 'Failed.';
    case 'cancelled':
      return `Cancelled at ${counts(action)}`;
  }
}

/** How far the action is, in percent: by bytes where it moves bytes, else by items. */
export function actionPercent(action: ActionState): number {
  if (action.status === 'done') return 100;
  if (action.bytesTotal) return Math.min(100, Math.floor((action.bytesDone / action.bytesTotal) * 100));
  if (action.filesTotal) return Math.min(100, Math.floor((action.filesDone / action.filesTotal) * 100));
  return 0;
}
