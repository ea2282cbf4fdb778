import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { buildAgentExecutable } from './build/agent/build-executable.ts';
import { agentBundleOptions } from './build/agent/bundle-options.ts';
import { precompressExecutable } from './build/agent/precompress.ts';
import { writeConsoleBundle } from './build/console/bundle.ts';
import { AGENT_PLATFORMS, type AgentPlatform } from './protocol/agent-stamp.ts';

/**
 * One build: the console bundle the control plane serves, the agent as one script (for `node`), and
 * the agent's single executables for every platform, each with a gzip copy ready for stamping.
 * Output goes to dist/ (never committed).
 *
 * `npm run build -- --agent-only linux-x64` builds just that executable; `--console-only` builds just
 * the console (`npm run build:console`, which `npm start` runs first), into `--console-dir` if given.
 */
const DIST = new URL('./dist/', import.meta.url).pathname;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'agent-only': { type: 'string', multiple: true },
      'console-only': { type: 'boolean' },
      'console-dir': { type: 'string' },
    },
  });
  const only = values['agent-only'];
  for (const name of only ?? []) {
    if (!AGENT_PLATFORMS.includes(name as AgentPlatform))
      throw new Error(`--agent-only: unknown platform ${name} (use ${AGENT_PLATFORMS.join(', ')})`);
  }
  if (!only) {
    const consoleDir = values['console-dir'] ?? `${DIST}console`;
    const consoleAssets = await writeConsoleBundle(consoleDir, { minify: true });
    process.stdout.write(
      `${relative(process.cwd(), consoleDir) || '.'}: console.js ${consoleAssets.js.length} B, console.css ${consoleAssets.css.length} B\n`,
    );
    if (values['console-only']) return;

    mkdirSync(`${DIST}agent`, { recursive: true });
    const agent = await build({
      ...agentBundleOptions('esm', 'agent/main.ts'),
      target: 'node20',
      outfile: `${DIST}agent/lifeline-agent.mjs`,
      metafile: true,
      logLevel: 'warning',
    });
    const bytes = Object.values(agent.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
    process.stdout.write(`dist/agent/lifeline-agent.mjs: ${bytes} B\n`);
  }

  const log = (line: string) => process.stdout.write(`${line}\n`);
  for (const platform of (only as AgentPlatform[] | undefined) ?? AGENT_PLATFORMS) {
    const manifest = await buildAgentExecutable(platform, { log });
    const gzip = await precompressExecutable(`${DIST}agent/${manifest.fileName}`, manifest.sha256);
    log(`dist/agent/${manifest.fileName}.gz: ${gzip.size} B`);
  }
}

await main();
