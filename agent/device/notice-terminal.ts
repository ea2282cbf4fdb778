import { existsSync } from 'node:fs';
import { consoleDisplay } from './console-user.ts';

/**
 * The environment variable (in the service's unit, or its drop-in) naming the command that shows a
 * session host to the user at the console, as a JSON array of words; the host's command line is
 * appended. For example `["tmux","-L","notice","new-session","-d"]` or `["xterm","-e"]`.
 */
export const NOTICE_COMMAND_ENV = 'LIFELINE_NOTICE_COMMAND';

/**
 * The command that opens a visible terminal for a session host on the console user's display:
 * {@link NOTICE_COMMAND_ENV} when set, else xterm on the display of the graphical seat `who` reports
 * (root may open windows there where the X server trusts it, e.g. `xhost +si:localuser:root`), or
 * undefined when nobody sits at a display: the user cannot be told, so nothing starts.
 */
export function noticeTerminal(env: NodeJS.ProcessEnv = process.env): readonly string[] | undefined {
  const configured = env[NOTICE_COMMAND_ENV];
  if (configured) {
    const words: unknown = JSON.parse(configured);
    if (!Array.isArray(words) || words.length === 0 || !words.every((w) => typeof w === 'string'))
      throw new Error(`${NOTICE_COMMAND_ENV} must be a JSON array of words, e.g. ["xterm","-e"].`);
    return words;
  }
  const display = consoleDisplay();
  if (!display || !existsSync('/usr/bin/xterm')) return undefined;
  return ['xterm', '-display', display, '-title', 'Lifeline background access', '-e'];
}
