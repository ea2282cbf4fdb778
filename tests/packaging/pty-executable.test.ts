import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WORK_DIR_PREFIX } from '../../agent/packaging/work-dir.ts';
import { buildAgentExecutable } from '../../build/agent/build-executable.ts';
import { PTY_PACKAGE_DIR, ptyPackageFiles } from '../../build/agent/pty-files.ts';
import type { PtyProbeReport } from './pty-probe.ts';

/** How long a build may take on a 2-core CI machine, in ms. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
/** How long the probe may take to start, open a terminal and report, in ms. */
const PROBE_TIMEOUT_MS = 60_000;

// A Linux executable made exactly like the agent's, from the same assets and the same packaged
// start-up, whose entry point is tests/packaging/pty-probe.ts instead of the agent: the shipped agent
// has no test mode. One build for the whole file; the probe runs once.
describe('node-pty inside the Linux single executable', {
  timeout: BUILD_TIMEOUT_MS + 2 * PROBE_TIMEOUT_MS,
}, () => {
  let scratch: string;
  let agentTmp: string;
  let report: PtyProbeReport;
  let ptyDir: string;

  before(
    async () => {
      scratch = mkdtempSync(join(tmpdir(), 'lifeline-pty-probe-'));
      agentTmp = join(scratch, 'tmp');
      mkdirSync(agentTmp);
      const manifest = await buildAgentExecutable('linux-x64', {
        outDir: join(scratch, 'out'),
        entry: new URL('./pty-probe.ts', import.meta.url).pathname,
      });
      // Run from a folder with no node_modules anywhere above it, as a downloaded agent is.
      const probe = spawnSync(join(scratch, 'out', manifest.fileName), [], {
        encoding: 'utf8',
        cwd: scratch,
        env: { PATH: process.env['PATH'], TMPDIR: agentTmp },
        timeout: PROBE_TIMEOUT_MS,
      });
      assert.equal(probe.status, 0, `${probe.stdout}\n${probe.stderr}`);
      const line = probe.stdout.split('\n').find((text) => text.startsWith('PROBE '));
      assert.ok(line, probe.stdout);
      report = JSON.parse(line.slice('PROBE '.length)) as PtyProbeReport;
      ptyDir = join(report.workDir, PTY_PACKAGE_DIR);
    },
    { timeout: BUILD_TIMEOUT_MS + PROBE_TIMEOUT_MS },
  );
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("loads node-pty's JavaScript and native module from the copy unpacked into its work dir", () => {
    assert.ok(report.workDir.startsWith(join(agentTmp, WORK_DIR_PREFIX)), report.workDir);
    assert.deepEqual(report.nativeModules, [join(ptyDir, 'build', 'Release', 'pty.node')]);
    assert.ok(report.ptyModules.includes(join(ptyDir, 'lib', 'index.js')), report.ptyModules.join('\n'));
    for (const file of report.ptyModules) assert.ok(file.startsWith(`${ptyDir}/`), file);
  });

  it('opens a real terminal of the requested size whose shell reads what is typed', () => {
    const lines = report.terminal.split('\r\n');
    assert.match(lines[0] ?? '', /^\/dev\/pts\/\d+$/, 'the shell runs on a pseudo-terminal');
    assert.equal(lines[1], '17 91', 'rows and columns as asked');
    assert.ok(lines.includes('got:hello'), report.terminal);
  });

  it("runs node-pty's Windows output worker thread from the unpacked script", () => {
    assert.equal(report.conoutRelayed, 'relayed by the worker');
  });

  it("unpacks exactly node-pty's package files, private to the user", () => {
    const unpacked = report.files
      .filter((line) => line.startsWith(`${PTY_PACKAGE_DIR}/`) && !line.split(' ')[0]?.endsWith('/'))
      .map((line) => line.split(' ')[0]?.slice(PTY_PACKAGE_DIR.length + 1));
    assert.deepEqual(
      unpacked.sort(),
      ptyPackageFiles('linux-x64')
        .map((file) => file.path)
        .sort(),
    );
    for (const line of report.files.filter((text) => text.startsWith(`${PTY_PACKAGE_DIR}/`)))
      assert.match(line, / [67]00$/, `${line}: only the user can read it`);
  });

  it('leaves no work dir, and so no node-pty files, behind when it ends', () => {
    assert.equal(existsSync(report.workDir), false);
    assert.deepEqual(readdirSync(agentTmp), []);
  });
});
