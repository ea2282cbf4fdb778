import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeCredentials } from '../../agent/device/credentials.ts';
import { LAUNCHD_LABEL } from '../../agent/device/launchd-plist.ts';
import { launchdLayout, launchdService } from '../../agent/device/launchd-service.ts';
import { PresenceProofs, presencePath } from '../../agent/device/presence.ts';

/**
 * launchd does not run here, so a stand-in `launchctl` goes first on PATH (a mock of a service
 * manager that cannot run in CI): it writes each call's words to `calls`, one call a line, and
 * answers `print` with success only between a `bootstrap` and a `bootout`, as launchd does.
 */
function fakeLaunchctl(folder: string): { calls: () => string[][] } {
  const calls = join(folder, 'calls');
  const loaded = join(folder, 'loaded');
  const script = join(folder, 'launchctl');
  writeFileSync(
    script,
    `#!/bin/sh
echo "$*" >> '${calls}'
case "$1" in
  bootstrap) touch '${loaded}';;
  bootout) rm -f '${loaded}';;
  print) [ -e '${loaded}' ] || { echo "Could not find service" >&2; exit 113; };;
esac
`,
  );
  chmodSync(script, 0o755);
  return {
    calls: () =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => line.split(' '))
        : [],
  };
}

/** A property list parsed by a real plist parser (Python's plistlib), as JSON. */
function parsePlist(path: string): Record<string, unknown> {
  const script = 'import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))';
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }));
}

/** Every file (not folder) under `root`, relative to it. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
    (path) => !statSync(join(root, path)).isDirectory(),
  );
}

// launchd does not run here: the property list is parsed for real, launchctl is a recording fake.
describe('the resident agent as a launchd daemon (macOS)', () => {
  const work = mkdtempSync(join(tmpdir(), 'lifeline-launchd-'));
  const root = join(work, 'root');
  const fakeBin = join(work, 'bin');
  mkdirSync(fakeBin);
  const launchctl = fakeLaunchctl(fakeBin);
  const path = process.env['PATH'];
  before(() => {
    process.env['PATH'] = `${fakeBin}:${path}`;
  });
  after(() => {
    process.env['PATH'] = path;
    rmSync(work, { recursive: true, force: true });
  });

  const layout = launchdLayout(root);
  const service = launchdService(layout);

  it('install writes a property list that runs the agent at load, kept alive, in its data folder, logging to a file, and bootstraps it', async () => {
    service.installProgram();
    await service.restrictCredentials();
    writeCredentials(layout.credentials, {
      server: 'https://help.example.org',
      deviceId: 'dev-1',
      groupId: 'grp-1',
      privateJwk: { kty: 'OKP' },
    });
    mkdirSync(layout.workDir, { recursive: true, mode: 0o700 });
    const said = await service.register();
    assert.match(said, new RegExp(LAUNCHD_LABEL));

    assert.equal(layout.plist, join(root, 'Library/LaunchDaemons/org.lifeline.agent.plist'));
    assert.equal(
      statSync(layout.plist).mode & 0o777,
      0o644,
      'launchd loads only a plist others cannot write',
    );
    assert.deepEqual(parsePlist(layout.plist), {
      Label: LAUNCHD_LABEL,
      ProgramArguments: [layout.executable, 'service'],
      EnvironmentVariables: { LIFELINE_AGENT_ROOT: root },
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 60,
      WorkingDirectory: layout.workDir,
      StandardOutPath: layout.logFile,
      StandardErrorPath: layout.logFile,
      Umask: 0o077,
      ProcessType: 'Background',
    });
    assert.equal(statSync(layout.executable).mode & 0o111, 0o111, 'the program is executable');
    assert.ok(existsSync(join(root, 'Library/Logs/Lifeline')), 'the log folder is there for launchd');
    assert.deepEqual(launchctl.calls(), [['bootstrap', 'system', layout.plist]]);
  });

  it('uninstall boots the daemon out and leaves none of its files: plist, program, data, credentials, log, presence', async () => {
    // What the running daemon leaves: its log, its presence proof, the data it worked with.
    writeFileSync(layout.logFile, 'started\n');
    new PresenceProofs(
      presencePath(root, 'darwin'),
      () => {},
      () => {},
    ).rotate();
    writeFileSync(join(layout.workDir, 'grant.json'), '{}');
    assert.ok(existsSync(join(root, 'var/run/lifeline/presence')));

    await service.unregister();
    service.removeFiles();
    assert.deepEqual(launchctl.calls().slice(1), [
      ['print', `system/${LAUNCHD_LABEL}`],
      ['bootout', `system/${LAUNCHD_LABEL}`],
    ]);
    assert.deepEqual(filesUnder(root), []);
    const folders = readdirSync(root, { recursive: true, encoding: 'utf8' }).map((p) =>
      relative(root, join(root, p)),
    );
    // Only the system's own folders stay.
    assert.deepEqual(folders.sort(), ['Library', 'Library/LaunchDaemons', 'Library/Logs', 'var', 'var/run']);
  });

  it('uninstall of a daemon launchd does not hold only asks, and boots nothing out', async () => {
    await service.unregister();
    assert.deepEqual(launchctl.calls().slice(3), [['print', `system/${LAUNCHD_LABEL}`]]);
  });
});
