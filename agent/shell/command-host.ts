import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { ChannelFailure } from '../core/channel-failure.ts';
import type { CommandHost, CommandProcess } from '../core/ports.ts';
import { attempt } from '../files/fs-failure.ts';
import { resolveSharedPath } from '../files/shared-path.ts';
import type { LiveProcesses } from './live-processes.ts';
import { type SystemShell, systemShell } from './system-shell.ts';

export interface CommandHostOptions {
  /** The shared folder (absolute, real): commands run there or in a folder inside it. */
  root: string;
  /** Commands still running, stopped when the agent exits. */
  live: LiveProcesses;
  shell?: SystemShell;
}

/**
 * Runs command lines with the platform's shell, explicitly (`/bin/sh -c`, `cmd.exe /d /s /c`) rather
 * than through `shell: true`, with input closed. On Linux and macOS each command leads its own
 * process group, so stopping it stops everything it started; on Linux, what left the group (`nohup`,
 * `setsid`, a double fork) is found by its mark (`LiveProcesses.mark`) and killed when the command
 * is stopped or exits.
 */
export function createCommandHost(options: CommandHostOptions): CommandHost {
  const system = options.shell ?? systemShell();
  return {
    async run({ command, cwd, onOutput, onExit }): Promise<CommandProcess> {
      const folder = await resolveSharedPath(options.root, cwd);
      await attempt(cwd, async () => {
        if (!(await stat(folder)).isDirectory())
          throw new ChannelFailure('NOT_A_FOLDER', `${cwd} is not a folder.`);
      });
      const { file, args, windowsVerbatimArguments } = system.command(command);
      const mark = options.live.mark();
      const child = spawn(file, args, {
        cwd: folder,
        env: { ...process.env, ...mark.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: system.detached,
        windowsHide: true,
        ...(windowsVerbatimArguments ? { windowsVerbatimArguments } : {}),
      });
      let started = false;
      let exited = false;
      const kill = () => {
        if (!started || exited || child.pid === undefined) return;
        system.killCommand(child.pid);
        mark.sweep([child.pid]);
      };
      const forget = options.live.add(kill);
      child.stdout.on('data', (data: Buffer) => onOutput('stdout', data));
      child.stderr.on('data', (data: Buffer) => onOutput('stderr', data));
      // 'close' comes after both streams ended, so every output is delivered before the exit.
      child.once('close', (exitCode, signal) => {
        exited = true;
        forget();
        // What the command left running in the background goes with it, before the operator hears
        // of the exit.
        if (!started) return;
        mark.sweep();
        onExit({ exitCode, signal });
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => {
          started = true;
          resolve();
        });
        child.on('error', (error) => {
          // After the start, only a failed kill of a process that just exited lands here.
          if (!started)
            reject(
              new ChannelFailure('IO_ERROR', `The command could not start: ${error.message}`, {
                cause: error,
              }),
            );
        });
      });
      return {
        pause: () => {
          child.stdout.pause();
          child.stderr.pause();
        },
        resume: () => {
          child.stdout.resume();
          child.stderr.resume();
        },
        kill,
      };
    },
  };
}
