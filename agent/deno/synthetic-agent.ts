import { type Permissions, PROTOCOL_VERSION } from '../../protocol/index.ts';
import { AgentSession } from '../core/agent-session.ts';
import type { InputSink, UserInterface } from '../core/ports.ts';
import { register } from '../core/registration.ts';
import { syntheticScreen } from './synthetic-screen.ts';

/**
 * The agent's runtime-neutral core (protocol, registration, session state machine, transport) run
 * by Deno with nothing but web-standard APIs: `fetch`, `WebSocket`, timers. The screen is synthetic
 * and input is only counted, since ffmpeg and robotjs are the Node host's business. Each step is
 * printed as one JSON line so a test can follow it.
 *
 * Usage: deno run --allow-net=127.0.0.1 agent/deno/synthetic-agent.ts http://127.0.0.1:8080
 */

declare const Deno: { args: string[]; exit(code: number): never; version: { deno: string } };

function emit(event: string, details: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ event, ...details }));
}

const screen = syntheticScreen(() => emit('streaming'));

let inputEvents = 0;
const input: InputSink = {
  apply() {
    inputEvents++;
    emit('input', { count: inputEvents });
  },
  releaseAll() {},
};

const ui: UserInterface = {
  showCode(code) {
    emit('code', { code });
  },
  async askConsent(operator, requested: Permissions) {
    emit('consent', { operator: operator.name });
    return { accepted: true, permissions: { ...requested, control: true } };
  },
  status(text) {
    emit('status', { text });
  },
  permissionsChanged(permissions) {
    emit('permissions', { permissions });
  },
  ended(reason) {
    emit('ended', { reason });
  },
};

const server = Deno.args[0];
if (!server) {
  console.error('usage: synthetic-agent.ts SERVER_URL');
  Deno.exit(2);
}
const info = { name: 'lifeline-agent-deno', version: '0.0.0', os: `deno ${Deno.version.deno}` };
const registration = await register(server, info);
ui.showCode(registration.code, registration.codeExpiresAt);
const session = new AgentSession({
  relayUrl: registration.relay.url,
  token: registration.relay.token,
  client: info,
  ui,
  screen,
  input,
});
await session.connect();
emit('welcome', { protocol: PROTOCOL_VERSION });
const outcome = await session.done;
ui.ended(outcome.reason);
Deno.exit(0);
