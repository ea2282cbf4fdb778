import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Hono } from 'hono';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';
import { problemResponse } from './problem.ts';

/** The page of a built console; every other file of its folder is served under `/assets/`. */
const PAGE = 'index.html';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** What the server says, and logs once, when it has no console to serve. */
export function consoleMissingText(consoleDir: string): string {
  return `The console is not built (no ${join(consoleDir, PAGE)}): run \`npm run build:console\` (npm start does it first).`;
}

/**
 * The console's files, read whole from the folder `npm run build:console` writes; undefined while it
 * has no page. The server only reads files here: it never bundles (esbuild is a build-time tool).
 */
function readConsole(dir: string): Map<string, string> | undefined {
  if (!existsSync(join(dir, PAGE))) return undefined;
  const files = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    if (name === PAGE || CONTENT_TYPES[extname(name)]) files.set(name, readFileSync(join(dir, name), 'utf8'));
  }
  return files;
}

/**
 * The operator console: its page at `/` and its script, stylesheet and download worker under
 * `/assets/`, read once from `config.consoleDir`. Until that folder holds a build, every console URL
 * answers 503 with the command to run.
 */
export function consoleRoutes(services: Services) {
  const app = new Hono<AppEnv>();
  const dir = services.config.consoleDir;
  let files = readConsole(dir);
  if (!files) services.logger.warn({ consoleDir: dir }, consoleMissingText(dir));
  const built = () => {
    files ??= readConsole(dir);
    return files;
  };

  app.get('/', (c) => {
    const page = built()?.get(PAGE);
    if (page === undefined) return problemResponse(c, 503, 'INTERNAL', consoleMissingText(dir));
    c.header('Cache-Control', 'no-store');
    return c.html(page);
  });
  app.get('/assets/:name', async (c, next) => {
    const name = c.req.param('name');
    const type = CONTENT_TYPES[extname(name)];
    const bundle = built();
    if (!bundle) return type ? problemResponse(c, 503, 'INTERNAL', consoleMissingText(dir)) : next();
    const body = name === PAGE ? undefined : bundle.get(name);
    if (body === undefined || !type) return next();
    c.header('Content-Type', type);
    c.header('Cache-Control', 'no-cache');
    return c.body(body);
  });
  return app;
}
