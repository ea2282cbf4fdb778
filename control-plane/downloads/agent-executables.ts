import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutableManifest } from '../../build/agent/build-executable.ts';
import { type PrecompressedExecutable, precompressExecutable } from '../../build/agent/precompress.ts';
import { AGENT_FILE_NAMES, type AgentPlatform } from '../../protocol/agent-stamp.ts';
import type { Logger } from '../logger.ts';

/** `dist/agent/` of this checkout, where `npm run build` writes the executables. */
export const DIST_AGENT_DIR = new URL('../../dist/agent/', import.meta.url).pathname;

/** A built, unstamped executable, ready to be served. */
export interface AgentExecutable {
  path: string;
  manifest: ExecutableManifest;
}

export interface AgentExecutablesOptions {
  /** Where the executables are looked for (and built into); `dist/agent/` by default. */
  dir?: string;
  /** Build a missing executable on first request (needs the dev dependencies); true by default. */
  buildMissing?: boolean;
  logger?: Logger;
}

/**
 * The executables the control plane serves: found in `dist/agent/` as `npm run build` left them, or
 * built on first request, one build per platform however many requests wait for it. The gzip copy
 * is made the same way. A failed build is retried by the next request.
 */
export class AgentExecutables {
  private readonly dir: string;
  private readonly executables = new Map<AgentPlatform, Promise<AgentExecutable>>();
  private readonly compressed = new Map<AgentPlatform, Promise<PrecompressedExecutable>>();

  constructor(private readonly options: AgentExecutablesOptions = {}) {
    this.dir = options.dir ?? DIST_AGENT_DIR;
  }

  /** The executable for `platform`, building it if there is none. */
  get(platform: AgentPlatform): Promise<AgentExecutable> {
    let pending = this.executables.get(platform);
    if (!pending) {
      pending = this.findOrBuild(platform);
      pending.catch(() => this.executables.delete(platform));
      this.executables.set(platform, pending);
    }
    return pending;
  }

  /** The executable as an open gzip stream, for stamping per download without recompressing. */
  gzip(platform: AgentPlatform): Promise<PrecompressedExecutable> {
    let pending = this.compressed.get(platform);
    if (!pending) {
      pending = this.get(platform).then(({ path, manifest }) => {
        this.options.logger?.info({ event: 'agent-compress', platform }, 'compressing the agent executable');
        return precompressExecutable(path, manifest.sha256);
      });
      pending.catch(() => this.compressed.delete(platform));
      this.compressed.set(platform, pending);
    }
    return pending;
  }

  private async findOrBuild(platform: AgentPlatform): Promise<AgentExecutable> {
    const found = this.find(platform);
    if (found) return found;
    if (this.options.buildMissing === false)
      throw new Error(`no agent executable for ${platform} in ${this.dir}; run npm run build`);
    this.options.logger?.info({ event: 'agent-build', platform }, 'building the agent executable');
    // Loaded on demand: esbuild and postject are needed only when no executable was built.
    const { buildAgentExecutable } = await import('../../build/agent/build-executable.ts');
    const manifest = await buildAgentExecutable(platform, { outDir: this.dir });
    return { path: join(this.dir, manifest.fileName), manifest };
  }

  private find(platform: AgentPlatform): AgentExecutable | undefined {
    const manifestPath = join(this.dir, `${AGENT_FILE_NAMES[platform]}.json`);
    if (!existsSync(manifestPath)) return undefined;
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ExecutableManifest;
      const path = join(this.dir, manifest.fileName);
      // A half-copied or replaced file must not be served under the manifest's digest.
      return manifest.platform === platform && statSync(path).size === manifest.size
        ? { path, manifest }
        : undefined;
    } catch {
      return undefined;
    }
  }
}
