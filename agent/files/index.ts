export * from './fs-failure.ts';
export * from './node-file-host.ts';
export * from './shared-path.ts';
