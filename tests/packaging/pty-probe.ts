/**
 * The entry point of a test-only single executable, built by pty-executable.test.ts and never
 * shipped: it runs the packaged agent's start-up (`startPackagedRun`), opens a real terminal through
 * `loadPty()` as the agent's shells do, and prints what it saw as one `PROBE {json}` line.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { startPackagedRun } from '../../agent/packaging/packaged-run.ts';
import { loadPty } from '../../agent/platform/pty-module.ts';
import { waitFor } from '../support/processes.ts';

/** What the probe reports; pty-executable.test.ts reads it. */
export interface PtyProbeReport {
  workDir: string;
  /** Files under the work dir with their permission bits, e.g. `node-pty/lib/index.js 700`. */
  files: string[];
  /** node-pty's JavaScript modules this process loaded (`require.cache`). */
  ptyModules: string[];
  /** Files named pty.node mapped into this process (`/proc/self/maps`). */
  nativeModules: string[];
  /** Everything the terminal printed. */
  terminal: string;
  /** What node-pty's Windows output worker relayed from a socket, run from the unpacked copy. */
  conoutRelayed: string;
}

/** How long the shell may take to answer, in ms. */
const SHELL_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const run = startPackagedRun();
  if (!run) throw new Error('pty-probe: not running as a single executable');
  try {
    const pty = loadPty();
    const shell = pty.spawn('/bin/sh', ['-c', 'tty; stty size; read line; echo "got:$line"'], {
      cols: 91,
      rows: 17,
      cwd: run.workDir.path,
      env: { PATH: '/usr/bin:/bin' },
    });
    let terminal = '';
    shell.onData((data) => {
      terminal += data;
    });
    await waitFor('the shell to print its size', () => terminal.includes('17 91'), SHELL_TIMEOUT_MS, 20);
    shell.write('hello\r');
    await waitFor('the shell to echo the line', () => terminal.includes('got:hello'), SHELL_TIMEOUT_MS, 20);

    const require = createRequire(join(run.workDir.path, 'node-pty', 'package.json'));
    const report: PtyProbeReport = {
      workDir: run.workDir.path,
      files: listFiles(run.workDir.path),
      ptyModules: Object.keys(require.cache).filter((file) => file.includes('node-pty')),
      nativeModules: [
        ...new Set(
          readFileSync('/proc/self/maps', 'utf8')
            .split('\n')
            .filter((line) => line.endsWith('pty.node'))
            .map((line) => line.slice(line.indexOf('/'))),
        ),
      ],
      terminal,
      conoutRelayed: await relayThroughConoutWorker(require, join(run.workDir.path, 'conout.sock')),
    };
    shell.kill();
    process.stdout.write(`PROBE ${JSON.stringify(report)}\n`);
  } finally {
    run.workDir.remove();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    const mode = (statSync(join(dir, relative)).mode & 0o777).toString(8);
    return entry.isDirectory()
      ? [`${relative}/ ${mode}`, ...listFiles(dir, relative)]
      : [`${relative} ${mode}`];
  });
}

/**
 * On Windows node-pty drains a terminal's output on a worker thread started from its
 * `lib/worker/conoutSocketWorker.js`; the worker connects to a named pipe and serves it again as
 * `<pipe>-worker`. A Unix socket stands in for the pipe, so the worker runs here too.
 */
async function relayThroughConoutWorker(require: NodeJS.Require, socketPath: string): Promise<string> {
  const source = createServer((socket) => socket.end('relayed by the worker'));
  await new Promise<void>((resolve) => source.listen(socketPath, resolve));
  const { ConoutConnection } = require('./lib/windowsConoutConnection.js') as {
    ConoutConnection: new (
      pipe: string,
      useConptyDll: boolean,
    ) => {
      onReady(listener: () => void): void;
      connectSocket(socket: Socket): void;
      dispose(): void;
    };
  };
  const connection = new ConoutConnection(socketPath, false);
  await new Promise<void>((resolve) => connection.onReady(resolve));
  const socket = new Socket();
  let relayed = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => {
    relayed += data;
  });
  connection.connectSocket(socket);
  await new Promise((resolve) => socket.on('close', resolve));
  connection.dispose();
  source.close();
  return relayed;
}
