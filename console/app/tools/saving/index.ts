export * from './file-saver.ts';
export * from './stream-saver.ts';
export * from './worker-paths.ts';
