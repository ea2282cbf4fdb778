import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { DOWNLOAD_WORKER_PATH } from '../../console/app/tools/saving/worker-paths.ts';
import type { Services } from '../services.ts';
import type { AppEnv } from './app-env.ts';

const DIST_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

interface ConsoleAssets {
  js: string;
  css: string;
  worker: string;
}

/** Uses the bundle `npm run build` wrote, or bundles the console in memory on first request. */
function loadAssets(): Promise<ConsoleAssets> {
  const js = `${DIST_DIR}console.js`;
  const css = `${DIST_DIR}console.css`;
  const worker = `${DIST_DIR}download-worker.js`;
  if (existsSync(js) && existsSync(css) && existsSync(worker)) {
    return Promise.resolve({
      js: readFileSync(js, 'utf8'),
      css: readFileSync(css, 'utf8'),
      worker: readFileSync(worker, 'utf8'),
    });
  }
  // Loaded on demand: esbuild is needed only when no prebuilt bundle exists.
  return import('../../console/build.ts').then(({ buildConsoleAssets }) =>
    buildConsoleAssets({ minify: true }),
  );
}

/** The operator console: one HTML page and its two assets. */
export function consoleRoutes(services: Services) {
  const app = new Hono<AppEnv>();
  let assets: Promise<ConsoleAssets> | undefined;
  const getAssets = () => {
    assets ??= loadAssets().catch((error: unknown) => {
      assets = undefined;
      services.logger.error({ err: error }, 'could not bundle the console');
      throw error;
    });
    return assets;
  };

  app.get('/', async (c) => {
    const { consoleHtml } = await import('../../console/build.ts');
    c.header('Cache-Control', 'no-store');
    return c.html(consoleHtml());
  });
  app.get('/assets/console.js', async (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body((await getAssets()).js);
  });
  // The download service worker: every download's bytes stream through it to disk.
  app.get(DOWNLOAD_WORKER_PATH, async (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body((await getAssets()).worker);
  });
  app.get('/assets/console.css', async (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body((await getAssets()).css);
  });
  return app;
}
