import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * systemd does not run as PID 1 here, so a stand-in `systemctl` goes first on the service's PATH (a
 * mock of a service manager that cannot run in CI): it lists two services, knows `demo.service`,
 * and writes each call's words, one per line and a blank line after, to `calls`.
 */
function writeFakeSystemctl(folder: string, calls: string): void {
  const script = join(folder, 'systemctl');
  writeFileSync(
    script,
    `#!/bin/sh
for word in "$@"; do printf '%s\\n' "$word" >> '${calls}'; done
echo >> '${calls}'
case "$1" in
  list-units)
    echo 'demo.service   loaded active   running Demo daemon for tests'
    echo 'cups.service   loaded inactive dead    CUPS Scheduler'
    echo 'dev-sda.device loaded active   plugged Not a service';;
  start|stop|restart)
    [ "$4" = demo.service ] && exit 0
    echo "Unit $4 not found." >&2; exit 5;;
esac
`,
  );
  chmodSync(script, 0o755);
}

/**
 * Registers, in the calling `describe`, a stand-in `systemctl` in a folder of its own (removed after
 * the block): `env` puts it first on the resident service's PATH, `log` is every call so far as
 * written, `calls` the same as each call's words.
 * @example
 * const systemctl = useFakeSystemctl();
 * const at = useRunningDevice({ group: 'Services', policy: ELEVATED_POLICY, env: systemctl.env });
 * assert.deepEqual(systemctl.calls().at(-1), ['stop', '--no-ask-password', '--', 'demo.service']);
 */
export function useFakeSystemctl() {
  const folder = mkdtempSync(join(tmpdir(), 'lifeline-systemctl-'));
  const file = join(folder, 'calls');
  writeFakeSystemctl(folder, file);
  after(() => rmSync(folder, { recursive: true, force: true }));
  const log = (): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    env: { PATH: `${folder}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    log,
    calls: (): string[][] =>
      log()
        .split('\n\n')
        .filter(Boolean)
        .map((call) => call.split('\n').filter(Boolean)),
  };
}
