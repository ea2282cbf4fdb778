import { writeFileSync } from 'node:fs';
import type { PeerInfo } from '../../protocol/index.ts';
import { createInvitation, type Invitation, invitationFile, passwordProblem } from '../core/invitation.ts';
import type { LinePrompt } from './line-prompt.ts';

/** Minutes an invitation stays open when the user just presses Enter. */
export const DEFAULT_INVITATION_MINUTES = 60;

/** Minutes as typed (`--invite-minutes`, or the answer to the question); undefined when not a whole number. */
export function parseMinutes(text: string): number | undefined {
  const minutes = Number(text);
  return Number.isInteger(minutes) && minutes >= 1 ? minutes : undefined;
}

/**
 * Asks the end user how long the invitation stays open (unless `minutes` was given) and for a
 * password, twice, then creates the invitation. A refusal the user can fix (longer than the policy
 * allows) is said and asked again. Undefined when the input ended before an invitation was made.
 */
export async function askForInvitation(
  server: string,
  info: PeerInfo,
  prompt: LinePrompt,
  output: NodeJS.WritableStream,
  minutes: number | undefined,
): Promise<Invitation | undefined> {
  const say = (text: string) => output.write(`  ${text}\n`);
  let chosen = minutes;
  for (;;) {
    while (chosen === undefined) {
      const answer = await prompt.ask(
        `  How many minutes may your helper take to open the invitation? [${DEFAULT_INVITATION_MINUTES}] `,
      );
      if (answer === undefined) return undefined;
      chosen = answer === '' ? DEFAULT_INVITATION_MINUTES : parseMinutes(answer);
      if (chosen === undefined) say('Type a number of minutes, for example 30.');
    }
    const password = await askPassword(prompt, say);
    if (password === undefined) return undefined;
    const result = await createInvitation(server, info, { expiresInMinutes: chosen, password });
    if (result.ok) return result.invitation;
    say(result.message);
    chosen = undefined;
  }
}

/** A password typed twice alike, meeting the minimum length; undefined when the input ended. */
async function askPassword(prompt: LinePrompt, say: (text: string) => void): Promise<string | undefined> {
  for (;;) {
    const password = await prompt.askSecret(
      '  Choose a password for the invitation (not shown as you type); you will tell it to your helper yourself: ',
    );
    if (password === undefined) return undefined;
    const problem = passwordProblem(password);
    if (problem) {
      say(problem);
      continue;
    }
    const again = await prompt.askSecret('  Type the password again: ');
    if (again === undefined) return undefined;
    if (again === password) return password;
    say('The two passwords differ. Try again.');
  }
}

/** Writes the small invitation file (the link and its expiry, never the password) to send instead of the link. */
export function writeInvitationFile(path: string, invitation: Invitation): void {
  writeFileSync(path, `${JSON.stringify(invitationFile(invitation), null, 2)}\n`);
}
