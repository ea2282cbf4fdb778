export { type AgentExecutable, AgentExecutables, type AgentExecutablesOptions } from './agent-executables.ts';
export {
  acceptsGzip,
  type DownloadRoutesOptions,
  downloadRoutes,
  type StampSessionFunction,
} from './download-routes.ts';
export { type SessionStamp, StampSigner } from './stamps.ts';
