import { execFileSync } from 'node:child_process';

/**
 * Runs xclip on the X display's CLIPBOARD selection: `['-o']` prints it, `['-i']` with `input` takes
 * it (xclip then forks a child that serves the text until another program takes the selection).
 */
export function xclip(display: string, args: string[], input?: string): string {
  return execFileSync('xclip', ['-selection', 'clipboard', ...args], {
    env: { ...process.env, DISPLAY: display },
    encoding: 'utf8',
    ...(input === undefined ? {} : { input }),
    // The serving child keeps the pipes it inherits: with `-i` none of them is one we would wait on.
    stdio: input === undefined ? ['ignore', 'pipe', 'ignore'] : ['pipe', 'ignore', 'ignore'],
    timeout: 10_000,
  });
}
