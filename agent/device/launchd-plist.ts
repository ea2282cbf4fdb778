import { ROOT_ENV } from './layout.ts';

/** The launchd label of the resident agent, and its property list's name in /Library/LaunchDaemons. */
export const LAUNCHD_LABEL = 'org.lifeline.agent';

/**
 * How long launchd waits before starting the service again after it exited with a failure, in
 * seconds. launchd has no systemd's RestartPreventExitStatus: a device whose identity the server
 * refused (exit 78) is retried, once a minute at most.
 */
export const LAUNCHD_THROTTLE_SECONDS = 60;

/** Where the launchd daemon's files are, each under `root` (`/` on a real Mac). */
export interface LaunchdLayout {
  root: string;
  executable: string;
  credentials: string;
  /** The daemon's data folder: its working directory, with the session hosts and unattended grants. */
  workDir: string;
  /** `/Library/LaunchDaemons/org.lifeline.agent.plist`. */
  plist: string;
  /** Where launchd writes the daemon's standard output and error. */
  logFile: string;
}

/** XML's five special characters escaped, for a `<string>`. */
function xmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The launchd property list that runs the resident agent as root at boot (RunAtLoad), restarted
 * when it fails (KeepAlive on an unsuccessful exit), in its data folder, with its output in its log,
 * files it creates private to root (Umask 077, as the systemd unit's UMask).
 */
export function launchdPlist(layout: LaunchdLayout): string {
  const string = (value: string) => `<string>${xmlText(value)}</string>`;
  const environment =
    layout.root === '/'
      ? []
      : [
          '  <key>EnvironmentVariables</key>',
          '  <dict>',
          `    <key>${ROOT_ENV}</key>`,
          `    ${string(layout.root)}`,
          '  </dict>',
        ];
  return `${[
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${string(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    `    ${string(layout.executable)}`,
    `    ${string('service')}`,
    '  </array>',
    ...environment,
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    `  <integer>${LAUNCHD_THROTTLE_SECONDS}</integer>`,
    '  <key>WorkingDirectory</key>',
    `  ${string(layout.workDir)}`,
    '  <key>StandardOutPath</key>',
    `  ${string(layout.logFile)}`,
    '  <key>StandardErrorPath</key>',
    `  ${string(layout.logFile)}`,
    '  <key>Umask</key>',
    // 0o077, in decimal: property lists have no octal.
    '  <integer>63</integer>',
    '  <key>ProcessType</key>',
    `  ${string('Background')}`,
    '</dict>',
    '</plist>',
  ].join('\n')}\n`;
}
