import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  adoptWorkDir,
  cleanStaleWorkDirs,
  createWorkDir,
  OWNER_FILE,
  OWNERLESS_GRACE_MS,
  WORK_DIR_PREFIX,
} from '../../agent/packaging/work-dir.ts';
import { removeNow, windowsRemovalCommand } from '../../agent/platform/self-delete.ts';

/** A pid that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('the private work directory', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'lifeline-workdirs-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('is created readable by its owner only, naming the process that owns it', () => {
    const dir = createWorkDir(parent);
    assert.equal(statSync(dir.path).mode & 0o777, 0o700);
    assert.ok(dir.path.startsWith(join(parent, WORK_DIR_PREFIX)));
    assert.equal(JSON.parse(readFileSync(join(dir.path, OWNER_FILE), 'utf8')).pid, process.pid);
    dir.remove();
    assert.equal(existsSync(dir.path), false);
  });

  it('a directory whose owner died is removed by the next start; a live one is kept', () => {
    const stale = createWorkDir(parent);
    writeFileSync(join(stale.path, OWNER_FILE), JSON.stringify({ pid: deadPid(), startedAt: 0 }));
    writeFileSync(join(stale.path, 'ffmpeg'), 'unpacked');
    // Another agent that is running (this process's parent stands in for it).
    const live = createWorkDir(parent);
    writeFileSync(join(live.path, OWNER_FILE), JSON.stringify({ pid: process.ppid, startedAt: 0 }));
    assert.deepEqual(cleanStaleWorkDirs(parent), [stale.path]);
    assert.equal(existsSync(stale.path), false);
    assert.equal(existsSync(live.path), true);
  });

  it('a directory naming this very process is stale: a killed agent had the pid this run got again', () => {
    // The cleanup runs before this run creates its own directory, so this one cannot be its own.
    const recycled = createWorkDir(parent);
    writeFileSync(join(recycled.path, 'robotjs.node'), 'unpacked');
    assert.deepEqual(cleanStaleWorkDirs(parent), [recycled.path]);
    assert.equal(existsSync(recycled.path), false);
  });

  it('an ownerless directory is kept while it may still be starting, and removed once old', () => {
    const young = join(parent, `${WORK_DIR_PREFIX}young`);
    const old = join(parent, `${WORK_DIR_PREFIX}old`);
    mkdirSync(young);
    mkdirSync(old);
    const past = (Date.now() - OWNERLESS_GRACE_MS - 60_000) / 1000;
    utimesSync(old, past, past);
    assert.deepEqual(cleanStaleWorkDirs(parent), [old]);
    assert.equal(existsSync(young), true);
  });

  it("the Windows launcher's directory is adopted only when it is one of ours, in the temp folder, with its owner file", () => {
    const launcher = createWorkDir(parent);
    writeFileSync(join(launcher.path, 'lifeline-agent.exe'), 'unpacked runtime');
    assert.equal(adoptWorkDir(launcher.path, parent)?.path, launcher.path);
    const elsewhere = mkdtempSync(join(tmpdir(), WORK_DIR_PREFIX));
    try {
      writeFileSync(join(elsewhere, OWNER_FILE), JSON.stringify({ pid: process.pid, startedAt: 0 }));
      assert.equal(adoptWorkDir(elsewhere, parent), undefined, 'not in the temp folder');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    const unnamed = mkdtempSync(join(parent, 'other-'));
    writeFileSync(join(unnamed, OWNER_FILE), JSON.stringify({ pid: process.pid, startedAt: 0 }));
    assert.equal(adoptWorkDir(unnamed, parent), undefined, 'not named like a work directory');
    const ownerless = join(parent, `${WORK_DIR_PREFIX}ownerless`);
    mkdirSync(ownerless);
    assert.equal(adoptWorkDir(ownerless, parent), undefined, 'no owner file');
    const target = createWorkDir(parent);
    const planted = join(parent, `${WORK_DIR_PREFIX}planted`);
    symlinkSync(target.path, planted);
    assert.equal(adoptWorkDir(planted, parent), undefined, 'a symlink is not followed');
  });

  it("under the Windows launcher, a killed launcher's directory naming the pid the new launcher got is stale; the adopted one is kept", () => {
    const launcherPid = process.ppid;
    const killed = createWorkDir(parent);
    writeFileSync(join(killed.path, OWNER_FILE), JSON.stringify({ pid: launcherPid, startedAt: 0 }));
    const own = createWorkDir(parent);
    writeFileSync(join(own.path, OWNER_FILE), JSON.stringify({ pid: launcherPid, startedAt: 1 }));
    const adopted = adoptWorkDir(own.path, parent);
    assert.equal(adopted?.launcherPid, launcherPid);
    assert.deepEqual(
      cleanStaleWorkDirs(parent, () => true, Date.now(), [process.pid, launcherPid], adopted?.path),
      [killed.path],
    );
    assert.equal(existsSync(own.path), true);
  });

  it('a symlink with the agent prefix is never followed or removed', () => {
    const target = mkdtempSync(join(parent, 'precious-'));
    writeFileSync(join(target, 'keep.txt'), 'mine');
    symlinkSync(target, join(parent, `${WORK_DIR_PREFIX}planted`));
    assert.deepEqual(
      cleanStaleWorkDirs(parent, () => false, Date.now() + 10 * OWNERLESS_GRACE_MS),
      [],
    );
    assert.equal(readFileSync(join(target, 'keep.txt'), 'utf8'), 'mine');
  });
});

describe('self-deletion', () => {
  it('Linux and macOS remove the directory and the executable at once', () => {
    const parent = mkdtempSync(join(tmpdir(), 'lifeline-selfdelete-'));
    try {
      const dir = createWorkDir(parent);
      const executable = join(parent, 'lifeline-agent-linux-x64');
      writeFileSync(executable, 'binary');
      assert.deepEqual(removeNow({ directory: dir.path, executable }), []);
      assert.equal(existsSync(dir.path), false);
      assert.equal(existsSync(executable), false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('the Windows helper retries deleting both paths after the agent has exited, then stops', () => {
    const command = windowsRemovalCommand({
      executable: 'C:\\Users\\Ann Lee\\Downloads\\lifeline-agent-win-x64 (1).exe',
      directory: 'C:\\Users\\Ann Lee\\AppData\\Local\\Temp\\lifeline-agent-AbC123',
    });
    assert.deepEqual(command, {
      file: 'cmd.exe',
      commandLine:
        '/d /q /s /c "for /l %i in (1,1,120) do @(ping -n 2 127.0.0.1 >nul & ' +
        'del /f /q "C:\\Users\\Ann Lee\\Downloads\\lifeline-agent-win-x64 (1).exe" >nul 2>&1 & ' +
        'rmdir /s /q "C:\\Users\\Ann Lee\\AppData\\Local\\Temp\\lifeline-agent-AbC123" >nul 2>&1 & ' +
        'if not exist "C:\\Users\\Ann Lee\\Downloads\\lifeline-agent-win-x64 (1).exe" ' +
        'if not exist "C:\\Users\\Ann Lee\\AppData\\Local\\Temp\\lifeline-agent-AbC123" exit)"',
    });
  });

  it('with --keep the Windows helper removes only the directory', () => {
    const command = windowsRemovalCommand(
      { directory: 'C:\\Temp\\lifeline-agent-x' },
      'C:\\Windows\\cmd.exe',
    );
    assert.equal(command?.file, 'C:\\Windows\\cmd.exe');
    assert.doesNotMatch(command?.commandLine ?? '', /del /);
    assert.match(command?.commandLine ?? '', /rmdir \/s \/q "C:\\Temp\\lifeline-agent-x"/);
  });

  it('a path cmd would expand is not handed to cmd', () => {
    assert.equal(windowsRemovalCommand({ executable: 'C:\\Users\\%USERNAME%\\agent.exe' }), undefined);
  });
});
