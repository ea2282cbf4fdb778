import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { VIDEO_WORKER_PATH } from '../../console/app/media/video-worker-messages.ts';
import { DOWNLOAD_WORKER_PATH } from '../../console/app/tools/saving/worker-paths.ts';

// Runs at build time only (npm run build, npm start's prestart, the test runner's set-up): the server
// serves the files written here and never imports this module or esbuild.

/** The browser entry point of the operator console. */
const ENTRY = fileURLToPath(new URL('../../console/app/main.tsx', import.meta.url));
/** The download service worker, bundled on its own (a worker is one classic script). */
const WORKER_ENTRY = fileURLToPath(
  new URL('../../console/app/tools/saving/download-worker.ts', import.meta.url),
);
/** The video worker, which decodes and converts pictures off the page's main thread. */
const VIDEO_WORKER_ENTRY = fileURLToPath(new URL('../../console/app/media/video-worker.ts', import.meta.url));

/** Where the server serves the bundle; {@link consoleHtml} links to these, the page registers the worker. */
export const CONSOLE_ASSET_PATHS = {
  js: '/assets/console.js',
  css: '/assets/console.css',
  worker: DOWNLOAD_WORKER_PATH,
  videoWorker: VIDEO_WORKER_PATH,
} as const;

/**
 * The files of a built console, by name in its folder: the server answers `/` with `index.html` and
 * `/assets/<name>` with the others.
 */
export const CONSOLE_FILES = {
  html: 'index.html',
  js: 'console.js',
  css: 'console.css',
  worker: 'download-worker.js',
  videoWorker: 'video-worker.js',
} as const;

/**
 * zod re-exports every one of its ~50 message locales through `z.locales`, which makes up half
 * of the bundle. The console only shows English, so that module is replaced by English alone.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(context) {
    context.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: join(dirname(args.importer), args.path), namespace: 'zod-locales' };
    });
    context.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

export interface ConsoleAssets {
  /** One ES module with preact, the protocol and the app. */
  js: string;
  /** Every stylesheet the app imports, in order. */
  css: string;
  /** The download service worker (console/app/tools/saving/download-worker.ts). */
  worker: string;
  /** The video worker (console/app/media/video-worker.ts). */
  videoWorker: string;
}

/**
 * Bundles the operator console (`console/app/main.tsx` and the CSS it imports) in memory with esbuild.
 * @example
 * const assets = await buildConsoleAssets({ minify: true });
 * app.get('/assets/console.js', (c) => c.body(assets.js, 200, { 'Content-Type': 'text/javascript; charset=utf-8' }));
 */
export async function buildConsoleAssets(options?: { minify?: boolean }): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: { console: ENTRY },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options?.minify ?? false,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    // Required to name the JS and CSS outputs; nothing is written.
    outdir: 'console-assets',
    logLevel: 'silent',
    plugins: [zodEnglishOnly],
  });
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
  const css = result.outputFiles.find((file) => file.path.endsWith('.css'));
  if (!js || !css) throw new Error('The console bundle is missing its JavaScript or its stylesheet.');
  const [worker, videoWorker] = await Promise.all(
    [WORKER_ENTRY, VIDEO_WORKER_ENTRY].map((entry) => bundleWorker(entry, options?.minify ?? false)),
  );
  if (!worker || !videoWorker) throw new Error('The console bundle is missing a worker.');
  return { js: js.text, css: css.text, worker, videoWorker };
}

/** One worker script: a worker is one classic script, so everything it imports is bundled in. */
async function bundleWorker(entry: string, minify: boolean): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome110',
    minify,
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0];
  if (!script) throw new Error(`The console bundle is missing its worker ${entry}.`);
  return script.text;
}

/**
 * The console's HTML shell. It has no inline script or style, so it runs under a strict
 * Content-Security-Policy (`default-src 'self'`); the app renders into `#app`.
 */
export function consoleHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Lifeline · Operator console</title>
<link rel="stylesheet" href="${CONSOLE_ASSET_PATHS.css}">
<script type="module" src="${CONSOLE_ASSET_PATHS.js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Lifeline console needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Bundles the console and writes it to `dir` ({@link CONSOLE_FILES}), each file replaced whole so a
 * server reading the folder never sees half a file.
 * @example
 * await writeConsoleBundle('dist/console', { minify: true });
 */
export async function writeConsoleBundle(
  dir: string,
  options?: { minify?: boolean },
): Promise<ConsoleAssets> {
  const assets = await buildConsoleAssets(options);
  mkdirSync(dir, { recursive: true });
  const contents = { html: consoleHtml(), ...assets };
  for (const [part, name] of Object.entries(CONSOLE_FILES)) {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, contents[part as keyof typeof CONSOLE_FILES]);
    renameSync(`${path}.tmp`, path);
  }
  return assets;
}
