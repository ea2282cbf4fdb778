import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * systemd does not run as PID 1 here, so a stand-in `systemctl` goes first on the service's PATH (a
 * mock of a service manager that cannot run in CI): it lists two services, knows `demo.service`,
 * and writes each call's words, one per line and a blank line after, to `calls`.
 */
export function fakeSystemctl(folder: string, calls: string): string {
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
  return folder;
}
