import { platformLabel } from '../../format/labels.ts';
import { CopyButton } from '../common/copy-button.tsx';
import { orderedPlatforms } from './download-links.tsx';

/** What the operator tells the user, on the phone or in a chat. */
export function instructions(displayCode: string): string {
  return (
    'Open the link I sent you, download Lifeline and run it. Nothing is installed. ' +
    `It connects to me by itself; if it asks for a code, enter ${displayCode}. ` +
    'Then choose what I may do on your screen.'
  );
}

/** The same with the links, ready to paste into an e-mail or a chat. */
export function inviteMessage(displayCode: string, downloads: Record<string, string>): string {
  const links = orderedPlatforms(downloads).map(
    (platform) => `${platformLabel(platform)}: ${downloads[platform]}`,
  );
  return `${instructions(displayCode)}\n\n${links.join('\n')}`;
}

/** A short script to read to the user, and Copy message for sending it with the links. */
export function ReadAloud({
  displayCode,
  downloads,
}: {
  displayCode: string;
  downloads: Record<string, string>;
}) {
  return (
    <div class="read-aloud">
      <div class="read-aloud__title">Tell the user</div>
      <p class="read-aloud__text" data-testid="invite-instructions">
        “{instructions(displayCode)}”
      </p>
      <CopyButton
        text={inviteMessage(displayCode, downloads)}
        label="Copy message with links"
        class="btn--small"
        testId="copy-invite-message"
      />
    </div>
  );
}
