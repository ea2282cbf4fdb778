import { mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { buildConsoleAssets } from './control-plane/console/build.ts';

/**
 * One build: the console bundle the control plane serves, and the agent as one script.
 * Output goes to dist/ (never committed).
 */
const DIST = new URL('./dist/', import.meta.url).pathname;

async function main(): Promise<void> {
  mkdirSync(`${DIST}console`, { recursive: true });
  const consoleAssets = await buildConsoleAssets({ minify: true });
  writeFileSync(`${DIST}console/console.js`, consoleAssets.js);
  writeFileSync(`${DIST}console/console.css`, consoleAssets.css);
  process.stdout.write(`dist/console: console.js ${consoleAssets.js.length} B, console.css ${consoleAssets.css.length} B\n`);

  mkdirSync(`${DIST}agent`, { recursive: true });
  const agent = await build({
    entryPoints: ['agent/main.ts'],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: `${DIST}agent/lifeline-agent.mjs`,
    // Native and binary packages are loaded at run time from beside the bundle.
    external: ['robotjs', '@ffmpeg-installer/*', 'ffmpeg-static', 'bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(agent.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  process.stdout.write(`dist/agent/lifeline-agent.mjs: ${bytes} B\n`);
}

await main();
