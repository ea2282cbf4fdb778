import { homedir } from 'node:os';
import type { DeviceOrder, JoinSessionOrder, OrderResult, Policy } from '../../protocol/index.ts';
import type { DeviceCredentials } from './credentials.ts';
import type { SessionHosts } from './session-host-launcher.ts';

/** What the resident service lends the orders it obeys. */
export interface OrderContext {
  credentials: DeviceCredentials;
  hosts: SessionHosts;
  /**
   * The command that shows a session host to the user at the console (its command line appended),
   * or undefined when this device has no way to; see notice-terminal.ts.
   */
  noticeTerminal: () => readonly string[] | undefined;
  log: (fields: Record<string, unknown>, message: string) => void;
}

/** Where a background session's files are rooted and its shells start: `/` for root, else home. */
export function backgroundFilesRoot(): string {
  return process.getuid?.() === 0 ? '/' : homedir();
}

async function joinSession(
  order: JoinSessionOrder,
  policy: Policy,
  context: OrderContext,
): Promise<OrderResult> {
  const { credentials } = context;
  if (!credentials.serverKeys)
    return {
      ok: false,
      code: 'TOKEN_INVALID',
      message: 'This device has no control-plane keys: enrol it again.',
    };
  const notify = policy.backgroundAccess.notifyUser;
  const terminal = notify ? context.noticeTerminal() : undefined;
  if (notify && !terminal)
    return {
      ok: false,
      code: 'NOT_SUPPORTED',
      message:
        'The policy says to tell the user, and nobody is logged in at a display this device can show a notice on.',
    };
  try {
    const pid = await context.hosts.launch(
      {
        server: credentials.server,
        ...(credentials.proxy ? { proxy: credentials.proxy } : {}),
        ...(credentials.serverKey ? { serverKey: credentials.serverKey } : {}),
        serverKeys: credentials.serverKeys as { keys: Record<string, unknown>[] },
        attachment: { sessionId: order.sessionId, relay: order.relay, policyToken: order.policyToken },
        allowed: { shell: policy.modes.shell, files: policy.modes.files },
        filesRoot: backgroundFilesRoot(),
        operator: order.operator.name,
        notify,
      },
      {
        terminal,
        onExit: (exited, code) =>
          context.log(
            { event: 'session-host-exit', sessionId: order.sessionId, pid: exited, code },
            'session host ended',
          ),
      },
    );
    context.log({ event: 'session-host', sessionId: order.sessionId, pid, notify }, 'session host started');
    return { ok: true, detail: { pid } };
  } catch (error) {
    return {
      ok: false,
      code: 'INTERNAL',
      message: `The session host could not start: ${(error as Error).message}`,
    };
  }
}

/**
 * Carries out an order the device verified (order-verifier.ts) under the policy it carried; one
 * case per order kind. Never throws: every failure is a result for the control plane.
 */
export async function obeyOrder(
  order: DeviceOrder,
  policy: Policy,
  context: OrderContext,
): Promise<OrderResult> {
  switch (order.kind) {
    case 'join-session':
      return joinSession(order, policy, context);
  }
}
