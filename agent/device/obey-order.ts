import { homedir, userInfo } from 'node:os';
import {
  type DeviceOrder,
  elevatedRefusal,
  type JoinSessionOrder,
  type OrderResult,
  type Policy,
} from '../../protocol/index.ts';
import { type Account, consoleAccount, consoleDisplay } from './console-user.ts';
import type { DeviceCredentials } from './credentials.ts';
import { listServices, serviceAction } from './elevated-services.ts';
import { endProcess, listProcesses } from './elevated-tools.ts';
import { changeRegistry, readRegistry } from './registry-editor.ts';
import type { LaunchOptions, SessionHostSpec, SessionHosts } from './session-host-launcher.ts';
import type { UnattendedAccess } from './unattended-access.ts';
import type { UserNotices } from './user-notices.ts';
import { windowsHostPlan } from './windows/windows-host-plan.ts';

/** What the resident service lends the orders it obeys. */
export interface OrderContext {
  credentials: DeviceCredentials;
  hosts: SessionHosts;
  unattended: UnattendedAccess;
  /**
   * The command that shows a session host to the user at the console (its command line appended),
   * or undefined when this device has no way to; see notice-terminal.ts.
   */
  noticeTerminal: () => readonly string[] | undefined;
  /** Tells the console user which elevated tool an operator used. */
  notices: UserNotices;
  log: (fields: Record<string, unknown>, message: string) => void;
}

/** Where a background session's files are rooted and its shells start: `/` for root, else home. */
export function backgroundFilesRoot(): string {
  return process.getuid?.() === 0 ? '/' : homedir();
}

/** How a session host for `order` is to run: what it may grant, where it shows, what it runs. */
export type HostPlan =
  | {
      ok: true;
      spec: Omit<SessionHostSpec, 'server' | 'serverKeys' | 'attachment' | 'operator'>;
      launch: LaunchOptions;
      /** The console user the host runs as; undefined: it keeps the service's user. */
      account: Pick<Account, 'user'> | undefined;
      /** A notice for the user once the host runs, where the host itself shows nothing (Windows). */
      tell?: string;
    }
  | Extract<OrderResult, { ok: false }>;

const NOBODY_TO_TELL = (what: string): Extract<OrderResult, { ok: false }> => ({
  ok: false,
  code: 'NOT_SUPPORTED',
  message: `${what}, and nobody is logged in at a display this device can show a notice on.`,
});

/** The console user's X display (or the service's own, where it has one), for screen sessions. */
function screenDisplay(): string | undefined {
  return consoleDisplay() ?? process.env['DISPLAY'];
}

/**
 * Whom a session host for `order` runs as: the service's user (root) where the policy grants this
 * operator elevation (or the service is not root), otherwise the user logged in at the console;
 * refused when nobody is.
 */
function hostAccount(
  order: JoinSessionOrder,
  policy: Policy,
): { ok: true; account: Account | undefined } | Extract<OrderResult, { ok: false }> {
  if (order.elevated || !elevatedRefusal(order.operator, policy) || process.getuid?.() !== 0)
    return { ok: true, account: undefined };
  const account = consoleAccount();
  if (account) return { ok: true, account };
  return {
    ok: false,
    code: 'NOT_SUPPORTED',
    message: `Nobody is logged in at this device's console, and the group's policy does not allow elevated tools for this operator: ${ACCESS_NAME[order.access]} runs as the console user.`,
  };
}

/** How the refusals name each kind of access. */
export const ACCESS_NAME = {
  background: 'background access',
  unattended: 'unattended access',
  offer: 'offered help',
} as const;

function hostPlan(order: JoinSessionOrder, policy: Policy, context: OrderContext): HostPlan {
  const { modes } = policy;
  // The administrator shell: a shell only, hidden; the user is told by a notice (joinSession).
  if (order.access === 'background' && order.elevated)
    return {
      ok: true,
      spec: { allowed: { shell: true, files: false }, filesRoot: backgroundFilesRoot(), notify: false },
      launch: {},
      account: undefined,
    };
  if (order.access === 'unattended' && !context.unattended.executableFor(order.grant))
    return {
      ok: false,
      code: 'UNATTENDED_INACTIVE',
      message: 'Unattended access is not started on this device (or has expired): start it again.',
    };
  if (process.platform === 'win32')
    return windowsHostPlan(order, policy, context.unattended.executableFor(order.grant));
  const runner = hostAccount(order, policy);
  if (!runner.ok) return runner;
  const { account } = runner;
  const runAs = account ? { runAs: account } : {};
  if (order.access === 'background') {
    const notify = policy.backgroundAccess.notifyUser;
    const terminal = notify ? context.noticeTerminal() : undefined;
    if (notify && !terminal) return NOBODY_TO_TELL('The policy says to tell the user');
    const allowed = { shell: modes.shell, files: modes.files };
    return {
      ok: true,
      spec: { allowed, filesRoot: account?.home ?? backgroundFilesRoot(), notify, ...runAs },
      launch: { terminal },
      account,
    };
  }
  const display = screenDisplay();
  if (!display)
    return { ok: false, code: 'NOT_SUPPORTED', message: 'Nobody is logged in at a display on this device.' };
  if (order.access === 'unattended') {
    const executable = context.unattended.executableFor(order.grant);
    const notify = policy.unattended.notifyUser;
    const terminal = notify ? context.noticeTerminal() : undefined;
    if (notify && !terminal) return NOBODY_TO_TELL('The policy says to tell the user');
    return {
      ok: true,
      spec: {
        allowed: modes,
        display,
        filesRoot: account?.home ?? backgroundFilesRoot(),
        notify,
        ...runAs,
      },
      launch: { terminal, ...(executable ? { executable } : {}) },
      account,
    };
  }
  // Offered help: the user must see the offer to accept it, so there must be somewhere to show it.
  const terminal = context.noticeTerminal();
  if (!terminal) return NOBODY_TO_TELL('Help can only be offered to a user who sees the offer');
  return {
    ok: true,
    spec: {
      allowed: modes,
      display,
      filesRoot: account?.home ?? homedir(),
      notify: true,
      consent: true,
      ...(order.reason ? { reason: order.reason } : {}),
      ...runAs,
    },
    launch: { terminal },
    account,
  };
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
  const plan = hostPlan(order, policy, context);
  if (!plan.ok) return plan;
  // Whose shells, files and screen the session has: the console user's, or the service's (root).
  const runsAs = plan.account
    ? { runsAs: plan.account.user, elevated: false }
    : { runsAs: userInfo().username, elevated: process.getuid?.() === 0 || process.platform === 'win32' };
  const grant = order.access === 'unattended' ? order.grant : undefined;
  const { sessionId } = order;
  if (grant) context.unattended.sessionStarted(grant, sessionId);
  try {
    const pid = await context.hosts.launch(
      {
        ...plan.spec,
        server: credentials.server,
        ...(credentials.proxy ? { proxy: credentials.proxy } : {}),
        ...(credentials.serverKey ? { serverKey: credentials.serverKey } : {}),
        serverKeys: credentials.serverKeys as { keys: Record<string, unknown>[] },
        attachment: { sessionId, relay: order.relay, policyToken: order.policyToken },
        operator: order.operator.name,
      },
      {
        ...plan.launch,
        onExit: (exited) => {
          if (grant) context.unattended.sessionEnded(grant, sessionId);
          context.log({ event: 'session-host-exit', sessionId, pid: exited }, 'session host ended');
        },
      },
    );
    context.log(
      {
        event: 'session-host',
        sessionId,
        access: order.access,
        pid,
        notify: plan.spec.notify,
        runsAs: runsAs.runsAs,
      },
      'session host started',
    );
    if (order.elevated) {
      const text = `${order.operator.name} of your help desk opened an administrator shell on this computer.`;
      return { ok: true, detail: { pid, ...runsAs, told: context.notices.tell(undefined, text) } };
    }
    if (plan.tell)
      return { ok: true, detail: { pid, ...runsAs, told: context.notices.tell(undefined, plan.tell) } };
    return { ok: true, detail: { pid, ...runsAs } };
  } catch (error) {
    if (grant) context.unattended.sessionEnded(grant, sessionId);
    return {
      ok: false,
      code: 'INTERNAL',
      message: `The session host could not start: ${(error as Error).message}`,
    };
  }
}

function startUnattended(context: OrderContext): OrderResult {
  try {
    return { ok: true, detail: context.unattended.start() };
  } catch (error) {
    return {
      ok: false,
      code: 'INTERNAL',
      message: `Unattended access could not start: ${(error as Error).message}`.slice(0, 500),
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
    case 'start-unattended':
      return startUnattended(context);
    case 'list-processes':
      return told(
        await listProcesses(order),
        context,
        `processes:${order.operator.id}`,
        () =>
          `${order.operator.name} of your help desk opened the task manager on this computer, with administrator rights.`,
      );
    case 'end-process':
      return changed(
        await endProcess(order),
        context,
        { tool: 'end-process', pid: order.pid },
        (detail) =>
          `${order.operator.name} of your help desk ended the program "${detail['name']}" (process ${order.pid}) on this computer, with administrator rights.`,
      );
    case 'list-services':
      return told(
        await listServices(order),
        context,
        `services:${order.operator.id}`,
        () =>
          `${order.operator.name} of your help desk opened the services of this computer, with administrator rights.`,
      );
    case 'service-action':
      return changed(
        await serviceAction(order),
        context,
        { tool: 'service-action', unit: order.unit, action: order.action },
        () =>
          `${order.operator.name} of your help desk ${SERVICE_ACTION_DONE[order.action]} the service "${order.unit}" on this computer, with administrator rights.`,
      );
    case 'registry-read':
      return told(
        await readRegistry(order),
        context,
        `registry:${order.operator.id}`,
        () =>
          `${order.operator.name} of your help desk opened the registry editor on this computer, with administrator rights.`,
      );
    case 'registry-change': {
      const { change } = order;
      // The key and the value's name only: the data may be a secret.
      const name = 'name' in change ? { name: change.name } : {};
      return changed(
        await changeRegistry(order),
        context,
        { tool: 'registry', op: change.op, key: change.key, ...name },
        () =>
          `${order.operator.name} of your help desk changed the registry of this computer (${REGISTRY_CHANGE_DONE[change.op]} ${change.key}), with administrator rights.`,
      );
    }
  }
}

/** An elevated tool's change to the device: logged (these fields only) and told to the user. */
function changed(
  result: OrderResult,
  context: OrderContext,
  fields: Record<string, unknown>,
  text: (detail: Record<string, unknown>) => string,
): OrderResult {
  context.log(
    { event: 'elevated-tool', ...fields, result: result.ok ? 'ok' : result.code },
    'elevated tool used',
  );
  return told(result, context, undefined, text);
}

/** What the user reads of a registry change, by change. */
const REGISTRY_CHANGE_DONE = {
  'set-value': 'set a value in',
  'delete-value': 'deleted a value of',
  'create-key': 'created the key',
  'delete-key': 'deleted the key',
} as const;

/** What the user reads of a service action, by action. */
const SERVICE_ACTION_DONE = { start: 'started', stop: 'stopped', restart: 'restarted' } as const;

/**
 * The user at the console is told of an elevated tool's use that succeeded (README, "Elevated
 * tools"); the result says whether anyone was there to tell (`told`).
 */
function told(
  result: OrderResult,
  context: OrderContext,
  key: string | undefined,
  text: (detail: Record<string, unknown>) => string,
): OrderResult {
  if (!result.ok) return result;
  const detail = result.detail ?? {};
  return { ok: true, detail: { ...detail, told: context.notices.tell(key, text(detail)) } };
}
