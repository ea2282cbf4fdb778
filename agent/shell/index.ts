export * from './command-host.ts';
export * from './live-processes.ts';
export * from './pty-shell-host.ts';
export * from './system-shell.ts';
