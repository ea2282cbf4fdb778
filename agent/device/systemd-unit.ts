import type { InstallLayout } from './layout.ts';
import { ROOT_ENV } from './layout.ts';

/** Exit status of a service whose identity the server refused: systemd must not restart it. */
export const EXIT_IDENTITY_REFUSED = 78;

/** Quotes a word for a unit file's command line. */
function quoted(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The systemd unit that runs the resident agent as root at boot. Outbound only: it may bind no
 * socket at all (`SocketBindDeny=any`), so it can never listen on a port. A crash is restarted; a
 * refused identity (the device was forgotten) is not.
 */
export function systemdUnit(layout: InstallLayout): string {
  const environment = layout.root === '/' ? [] : [`Environment=${ROOT_ENV}=${quoted(layout.root)}`];
  return `${[
    '[Unit]',
    'Description=Lifeline resident agent (outbound connection to the help desk)',
    'Documentation=https://github.com/lifeline/lifeline#devices',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${quoted(layout.executable)} service`,
    ...environment,
    'Restart=on-failure',
    'RestartSec=5',
    `RestartPreventExitStatus=${EXIT_IDENTITY_REFUSED}`,
    'StateDirectory=lifeline-agent',
    'StateDirectoryMode=0700',
    // /run/lifeline: the presence proof every local user may read (agent/device/presence.ts).
    'RuntimeDirectory=lifeline',
    'RuntimeDirectoryMode=0755',
    'UMask=0077',
    'SocketBindDeny=any',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=full',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'RestrictNamespaces=yes',
    'LockPersonality=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n')}\n`;
}
