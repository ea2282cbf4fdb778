import { parseArgs } from 'node:util';
import { CAPABILITIES, type Capability, type Permissions } from '../protocol/index.ts';
import { AgentSession } from './core/agent-session.ts';
import { isAgentError } from './core/errors.ts';
import { register } from './core/registration.ts';
import { createInputInjector } from './input/input-injector.ts';
import { resolveFfmpeg } from './media/ffmpeg-path.ts';
import { AGENT_VERSION, hostInfo } from './node/host-info.ts';
import { ffmpegScreenSource } from './node/screen-source.ts';
import { TerminalUi } from './node/terminal-ui.ts';
import { installWebSocket } from './node/websocket.ts';
import { currentPlatform } from './platform/platform.ts';

const HELP = `lifeline-agent ${AGENT_VERSION}: share this computer with a help-desk operator.

Usage: lifeline-agent --server URL [options]

Options:
  --server URL       The Lifeline control plane (or set LIFELINE_SERVER).
  --accept           Accept the operator's request without asking, up to --allow.
                     For automation and tests only: nobody is asked for consent.
  --allow LIST       Capabilities that may be granted, comma-separated
                     (view,control,chat,files,shell). Default: all; the user still chooses.
  --framerate N      Frames per second captured (default 30).
  --version          Print the version.
  --help             Print this help.

The agent connects outbound only and never listens on a port. Nothing is shared until
you accept; press a letter during the session to switch a permission, q to end.
`;

function parseAllow(list: string | undefined): Permissions {
  const names = (list ?? CAPABILITIES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !CAPABILITIES.includes(n as Capability));
  if (unknown.length)
    throw new Error(`--allow: unknown capability ${unknown.join(', ')} (use ${CAPABILITIES.join(', ')})`);
  return Object.fromEntries(CAPABILITIES.map((c) => [c, names.includes(c)])) as Permissions;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      server: { type: 'string' },
      accept: { type: 'boolean', default: false },
      allow: { type: 'string' },
      framerate: { type: 'string', default: '30' },
      version: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const server = values.server ?? process.env['LIFELINE_SERVER'];
  if (!server || !URL.canParse(server)) {
    process.stderr.write(
      'Give the control plane address: lifeline-agent --server https://help.example.org\n',
    );
    return 2;
  }
  const framerate = Number(values.framerate);
  if (!Number.isFinite(framerate) || framerate < 1 || framerate > 60) {
    process.stderr.write('--framerate must be between 1 and 60.\n');
    return 2;
  }
  const allowed = parseAllow(values.allow);
  await installWebSocket();

  const platform = currentPlatform();
  const ffmpeg = resolveFfmpeg();
  const screen = platform.screenSize();
  const ui = new TerminalUi({ autoAccept: values.accept, input: process.stdin, output: process.stdout });
  const registration = await register(server, hostInfo(screen));
  ui.showCode(registration.code, registration.codeExpiresAt);

  const session = new AgentSession({
    relayUrl: registration.relay.url,
    token: registration.relay.token,
    client: hostInfo(screen),
    ui,
    allowed,
    screen: ffmpegScreenSource({ ffmpegPath: ffmpeg.path, platform, framerate }),
    input: createInputInjector({ screen: () => platform.screenSize() }),
  });
  ui.onEnd = () => void session.end('user-ended');
  ui.onToggle = (capability) => {
    const next = session.currentPermissions;
    next[capability] = !next[capability];
    void session.setPermissions(next);
  };
  process.on('SIGTERM', () => void session.end('user-ended'));
  process.on('SIGINT', () => void session.end('user-ended'));
  await session.connect();
  const outcome = await session.done;
  ui.ended(outcome.reason);
  ui.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = isAgentError(error) || error instanceof Error ? error.message : String(error);
    process.stderr.write(`lifeline-agent: ${message}\n`);
    process.exit(1);
  },
);
