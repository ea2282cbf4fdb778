import type { BuildOptions } from 'esbuild';

/**
 * Native and binary packages the agent's bundles never contain: the script bundle loads them from
 * beside itself at run time, the single executable from what it unpacks.
 */
export const AGENT_EXTERNALS: readonly string[] = [
  'robotjs',
  'node-pty',
  '@ffmpeg-installer/*',
  'ffmpeg-static',
  'bufferutil',
  'utf-8-validate',
];

/**
 * What each module format needs on top of esbuild's output: an ES module gets a `require` (for the
 * packages above); a CommonJS script gets an `import.meta.url`, its own file's URL.
 */
const FORMAT_GLUE = {
  esm: {
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  },
  cjs: {
    define: { 'import.meta.url': '__lifelineModuleUrl' },
    banner: { js: "var __lifelineModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  },
} satisfies Record<'esm' | 'cjs', BuildOptions>;

/**
 * The esbuild options every bundle of the agent shares: `entry` bundled for Node in `format`, the
 * externals left out and the format's glue in place. The caller adds its target and output.
 * @example
 * await build({ ...agentBundleOptions('esm', 'agent/main.ts'), target: 'node20', outfile });
 */
export function agentBundleOptions(format: 'esm' | 'cjs', entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format,
    external: [...AGENT_EXTERNALS],
    ...FORMAT_GLUE[format],
  };
}
