import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NOTICE_COMMAND_ENV } from '../../agent/device/notice-terminal.ts';

const run = promisify(execFile);

/**
 * A tmux server (a socket of its own) standing in for the desktop of the user at a resident device:
 * `env` is the drop-in that makes the service open its notice terminals in it, and the rest reads
 * and types into them as the user would.
 *
 * @example
 * const desk = noticeTmux('offer');
 * await runningDevice(cp, admin, { group, policy, env: { DISPLAY, ...desk.env } });
 * await desk.press('Enter');
 */
export function noticeTmux(name: string) {
  const socket = `lifeline-${name}-${process.pid}`;
  const tmux = async (...args: string[]) => (await run('tmux', ['-L', socket, ...args])).stdout;
  /** The panes open, by field (`#{pane_id}`, `#{pane_pid}`); none when no server runs. */
  const panes = async (field: string): Promise<string[]> => {
    try {
      return (await tmux('list-panes', '-a', '-F', field)).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    env: {
      [NOTICE_COMMAND_ENV]: JSON.stringify([
        'tmux',
        '-L',
        socket,
        'new-session',
        '-d',
        '-x',
        '160',
        '-y',
        '50',
      ]),
    },
    /** The text of every notice terminal open ('' when none is). */
    async screen(): Promise<string> {
      const texts = await Promise.all(
        (await panes('#{pane_id}')).map((pane) => tmux('capture-pane', '-p', '-J', '-t', pane)),
      );
      return texts.join('\n');
    },
    /** The process ids of the programs the notice terminals run. */
    async pids(): Promise<number[]> {
      return (await panes('#{pane_pid}')).map(Number);
    },
    /** Presses `key` (tmux's key names: `Enter`, `n`) in the first notice terminal. */
    async press(key: string): Promise<void> {
      const [pane] = await panes('#{pane_id}');
      assert.ok(pane, 'the session host has a terminal');
      await tmux('send-keys', '-t', pane, key);
    },
    /** The tmux server's global environment, which every later terminal inherits. */
    async globalEnvironment(): Promise<string> {
      return await tmux('show-environment', '-g');
    },
    /** Closes every notice terminal (the server with them). */
    async clear(): Promise<void> {
      await tmux('kill-server').catch(() => undefined);
    },
  };
}
