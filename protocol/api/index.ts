export * from './agent.ts';
export * from './audit.ts';
export * from './groups.ts';
export * from './operators.ts';
export * from './organisations.ts';
export * from './page.ts';
export * from './problem.ts';
export * from './sessions.ts';
