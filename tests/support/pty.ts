import { spawn as spawnPty } from 'node-pty';

/**
 * A process on a pseudo-terminal: for what must see a terminal (the agent's hidden password prompt)
 * and for Windows Node under Wine, which fails to open its stdio on a Linux pipe (EBADF).
 */
export interface PtyProcess {
  pid: number;
  /** Everything the process wrote to its terminal so far. */
  output(): string;
  /** Types into its terminal. */
  write(text: string): void;
  /** Its exit code once it has exited. */
  exited: Promise<number>;
  /** Ends it (SIGKILL; for Wine, to its loader) if it is still running, and waits. */
  kill(): Promise<void>;
}

/** Starts a program on a pseudo-terminal of the given size, collecting what it prints. */
export function spawnOnPty(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  size = { cols: 120, rows: 40 },
): PtyProcess {
  const pty = spawnPty(file, args, {
    name: 'xterm-256color',
    cols: size.cols,
    rows: size.rows,
    env: env as Record<string, string>,
  });
  let text = '';
  pty.onData((chunk) => {
    text += chunk;
  });
  const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    pid: pty.pid,
    output: () => text,
    write: (data) => pty.write(data),
    exited,
    async kill() {
      if (done) return;
      pty.kill('SIGKILL');
      await exited;
    },
  };
}
