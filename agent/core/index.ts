export * from './agent-session.ts';
export * from './errors.ts';
export * from './policy.ts';
export * from './ports.ts';
export * from './registration.ts';
