import { AgentError, isAgentError } from '../core/errors.ts';
import { isStampError } from '../packaging/stamp-verify.ts';
import type { LinePrompt } from './line-prompt.ts';
import { connectionFailure, type Outbound } from './outbound.ts';
import { ProxyConfigError, proxyFor, proxySettings } from './proxy-settings.ts';
import type { PresentedCertificate } from './server-identity.ts';

// The agent's first contact with its server, in the terminal before the session: approving a TLS
// server's certificate, giving a proxy when the server cannot be reached, and saying why it failed.

/** The question an unstamped agent asks before it talks to a TLS server for the first time. */
export async function askToTrust(prompt: LinePrompt, certificate: PresentedCertificate): Promise<boolean> {
  process.stdout.write(
    `\n  This agent does not know the server at ${certificate.server} yet. Its certificate's SHA-256 fingerprint:\n` +
      `    ${certificate.fingerprint}\n` +
      `  ${certificate.trustedBySystem ? 'This computer trusts the certificate.' : 'This computer does not trust the certificate (it may be self-signed).'}` +
      ' Connect only if your help desk confirms this fingerprint.\n',
  );
  const answer = await prompt.ask('  Connect to this server? [y/N]: ');
  return /^y(es)?$/i.test(answer ?? '');
}

/** Opens a first connection to the server (its health check), which is where its certificate is judged. */
export async function meetServer(server: string): Promise<void> {
  try {
    const response = await fetch(new URL('/healthz', server));
    await response.body?.cancel();
  } catch (error) {
    throw new AgentError('unreachable', `Cannot reach ${server}. Check the address and your network.`, {
      cause: error,
    });
  }
}

/**
 * Runs the agent's first contact with its server. When the server cannot be reached at all, no proxy
 * is known for it and someone is at the terminal, asks for a proxy (some networks let nothing else
 * out) and tries again through it.
 */
export async function firstContact<T>(
  server: string | undefined,
  outbound: Outbound,
  prompt: () => LinePrompt,
  attempt: () => Promise<T>,
): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      const unreachable =
        (error instanceof AgentError || isStampError(error)) &&
        error.kind === 'unreachable' &&
        connectionFailure(error) === undefined;
      if (!unreachable || !process.stdin.isTTY || !server || proxyFor(new URL(server), outbound.proxy))
        throw error;
      process.stdout.write(
        `  ${explain(error)}\n  If your network reaches the internet only through a proxy, type its address\n` +
          '  (http://host:port); press Enter to give up.\n',
      );
      const answer = await askProxy(prompt());
      if (!answer) throw error;
      try {
        outbound.proxy = proxySettings(answer);
      } catch (invalid) {
        if (!(invalid instanceof ProxyConfigError)) throw invalid;
        process.stdout.write(`  ${invalid.message.replace(/^--proxy: /, '')}\n`);
      }
    }
  }
}

/**
 * The proxy's address, then its user name and password when it needs them: the password is not shown
 * as it is typed. An address typed with `user:password@` in it is taken as it is.
 */
async function askProxy(prompt: LinePrompt): Promise<string | undefined> {
  const address = await prompt.ask('  Proxy: ');
  if (!address || address.includes('@')) return address;
  const user = await prompt.ask('  Proxy user name (press Enter if it needs none): ');
  if (!user) return address;
  const password = (await prompt.askSecret('  Proxy password (not shown as you type): ')) ?? '';
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  if (!URL.canParse(url)) return address;
  const withLogin = new URL(url);
  withLogin.username = encodeURIComponent(user);
  withLogin.password = encodeURIComponent(password);
  return withLogin.href;
}

/** The message for the end user: why the proxy or the server was refused, wherever it was wrapped. */
export function explain(error: unknown): string {
  const refused = connectionFailure(error);
  if (refused) return refused;
  return isAgentError(error) || isStampError(error) || error instanceof Error ? error.message : String(error);
}
