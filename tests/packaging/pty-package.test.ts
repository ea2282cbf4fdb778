import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { withoutConsoleListFork } from '../../agent/packaging/pty-package.ts';
import { assetPathSegments } from '../../agent/packaging/sea-assets.ts';
import { loadPty, usePtyPackage } from '../../agent/platform/pty-module.ts';
import { installedPtyDir, PTY_VERSION, ptyPackageFiles } from '../../build/agent/pty-files.ts';
import { waitFor } from '../support/processes.ts';

/** Copies these node-pty files into `dir` under their package paths, as the executable unpacks them. */
function unpack(platform: 'linux-x64' | 'win-x64', dir: string): void {
  for (const file of ptyPackageFiles(platform)) {
    const target = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file.source, target);
  }
}

describe("the node-pty files the agent's executables carry", () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'lifeline-pty-files-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('for Linux: the package manifest, licence, lib scripts without tests, and the compiled pty.node', () => {
    const paths = ptyPackageFiles('linux-x64').map((file) => file.path);
    for (const path of [
      'package.json',
      'LICENSE',
      'lib/index.js',
      'lib/unixTerminal.js',
      'build/Release/pty.node',
    ])
      assert.ok(paths.includes(path), path);
    assert.ok(
      !paths.some((path) => path.endsWith('.test.js') || path.endsWith('.map') || path.endsWith('.ts')),
    );
    assert.ok(!paths.some((path) => path.startsWith('prebuilds/')), 'no Windows or macOS binaries');
  });

  it('for Windows: ConPTY, its console-list add-on and winpty, without debug symbols or the optional OpenConsole', () => {
    const paths = ptyPackageFiles('win-x64').map((file) => file.path);
    for (const name of [
      'conpty.node',
      'conpty_console_list.node',
      'pty.node',
      'winpty.dll',
      'winpty-agent.exe',
    ])
      assert.ok(paths.includes(`prebuilds/win32-x64/${name}`), name);
    assert.ok(paths.includes('lib/worker/conoutSocketWorker.js'), "the output worker's script");
    assert.ok(!paths.some((path) => path.endsWith('.pdb') || path.includes('/conpty/')));
    assert.ok(!paths.includes('build/Release/pty.node'), 'not the Linux module');
  });

  it('another node-pty version is refused, since the Windows adaptation was checked against this one', () => {
    const fake = join(scratch, 'node-pty');
    mkdirSync(fake);
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'node-pty', version: '9.9.9' }));
    assert.throws(() => ptyPackageFiles('linux-x64', fake), /node-pty 9\.9\.9 is installed.*1\.1\.0/);
  });

  it('a missing compiled module is refused with the command that builds it', () => {
    const copy = join(scratch, 'node-pty');
    mkdirSync(join(copy, 'lib'), { recursive: true });
    copyFileSync(join(installedPtyDir(), 'package.json'), join(copy, 'package.json'));
    copyFileSync(join(installedPtyDir(), 'LICENSE'), join(copy, 'LICENSE'));
    writeFileSync(join(copy, 'lib', 'index.js'), '');
    assert.throws(
      () => ptyPackageFiles('linux-x64', copy),
      /build\/Release\/pty\.node.*npm rebuild node-pty/,
    );
  });

  it('the pinned version is the installed one', () => {
    const manifest = JSON.parse(readFileSync(join(installedPtyDir(), 'package.json'), 'utf8'));
    assert.equal(manifest.version, PTY_VERSION);
  });
});

describe('asset paths in the executable', () => {
  it('stay inside the work directory', () => {
    assert.deepEqual(assetPathSegments('node-pty/lib/index.js'), ['node-pty', 'lib', 'index.js']);
    assert.deepEqual(assetPathSegments('ffmpeg.exe'), ['ffmpeg.exe']);
    for (const bad of ['../x', 'node-pty/../../x', '/etc/passwd', 'a//b', './a', 'a\\..\\b', 'C:x', ''])
      assert.throws(() => assetPathSegments(bad), /not a path inside its work directory/, bad);
  });
});

describe('node-pty from an unpacked copy', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'lifeline-pty-copy-'));
  });
  afterEach(() => {
    mock.restoreAll();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('loadPty() loads the package it is pointed at and opens a real terminal', async () => {
    const dir = join(scratch, 'node-pty');
    unpack('linux-x64', dir);
    usePtyPackage(dir);
    const pty = loadPty();
    const require = createRequire(join(dir, 'package.json'));
    assert.ok(require.cache[join(dir, 'lib', 'index.js')], 'index.js came from the copy');
    const shell = pty.spawn('/bin/sh', ['-c', 'echo from-$((40 + 2))'], { cols: 80, rows: 24 });
    let output = '';
    shell.onData((data) => {
      output += data;
    });
    const exit = new Promise<{ exitCode: number }>((resolve) => shell.onExit(resolve));
    await waitFor('the shell to print', () => output.includes('from-42'));
    assert.equal((await exit).exitCode, 0);
  });

  it('on Windows, killing a ConPTY shell takes its process list without forking a second agent', async () => {
    const dir = join(scratch, 'node-pty');
    unpack('win-x64', dir);
    const require = createRequire(join(dir, 'package.json'));
    const { WindowsPtyAgent } = require('./lib/windowsPtyAgent.js') as {
      WindowsPtyAgent: { prototype: { kill(): void; _getConsoleProcessList(): Promise<number[]> } };
    };
    // The method node-pty's kill() calls to list the console's processes, which forks.
    assert.match(WindowsPtyAgent.prototype.kill.toString(), /this\._getConsoleProcessList\(\)/);
    const childProcess = createRequire(import.meta.url)(
      'node:child_process',
    ) as typeof import('node:child_process');
    const fork = mock.method(childProcess, 'fork', () => {
      const helper = new EventEmitter() as EventEmitter & { kill(): void };
      helper.kill = () => {};
      queueMicrotask(() => helper.emit('message', { consoleProcessList: [4242, 4343] }));
      return helper;
    });
    const agent = { _innerPid: 4242 };
    assert.deepEqual(await WindowsPtyAgent.prototype._getConsoleProcessList.call(agent), [4242, 4343]);
    assert.equal(fork.mock.callCount(), 1, 'unpatched, node-pty forks process.execPath (the agent)');

    withoutConsoleListFork(dir);
    assert.deepEqual(await WindowsPtyAgent.prototype._getConsoleProcessList.call(agent), [4242]);
    assert.equal(fork.mock.callCount(), 1, 'patched, nothing is forked');
  });
});
