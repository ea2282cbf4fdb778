export * from './channel-request.ts';
export * from './link-error.ts';
export * from './relay-link.ts';
