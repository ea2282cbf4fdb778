export * from './connection-code.ts';
export * from './frames.ts';
export * from './input.ts';
export * from './messages.ts';
export * from './permissions.ts';
export * from './policy.ts';
export * from './result-codes.ts';
export * from './version.ts';
