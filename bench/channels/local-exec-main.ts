/**
 * The baseline for commands, in a small process of its own like the agent: spawning from the
 * benchmark's own process would time a fork of a process holding the 64 MiB test file, which is
 * slower for that reason alone. Runs PROBE_COMMAND in LIFELINE_BENCH_CWD on each
 * `{ type: 'exec', id }` and answers `{ type: 'exec', id, ms }` or `{ type: 'exec', id, error }`.
 *
 * IPC: sends `{ type: 'ready' }`; stops on `{ type: 'stop' }`.
 */
import { localExec } from './commands.ts';

const cwd = process.env['LIFELINE_BENCH_CWD'];
if (!cwd) throw new Error('LIFELINE_BENCH_CWD must be set');

process.on('message', (message: { type?: string; id?: number }) => {
  if (message.type === 'exec') {
    localExec(cwd).then(
      (ms) => process.send?.({ type: 'exec', id: message.id, ms }),
      (error: unknown) => process.send?.({ type: 'exec', id: message.id, error: String(error) }),
    );
  } else if (message.type === 'stop') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
