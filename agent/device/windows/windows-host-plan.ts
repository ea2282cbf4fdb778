import { win32 } from 'node:path';
import { elevatedRefusal, type JoinSessionOrder, type Policy } from '../../../protocol/index.ts';
import { ACCESS_NAME, type HostPlan } from '../obey-order.ts';
import { inUserSession, windowsConsoleUser } from './user-session.ts';

type Refusal = Extract<HostPlan, { ok: false }>;

const nobody = (message: string): Refusal => ({ ok: false, code: 'NOT_SUPPORTED', message });

/**
 * How a session host for `order` runs on Windows, where the service is SYSTEM in session 0 and
 * cannot become the user itself: as the console user, in their session, through the service host
 * (`run-in-session`, hidden; `open-in-session`, a console window of its own, for offered help,
 * where the user reads the offer and answers it); as SYSTEM, hidden, where the policy grants this
 * operator elevation. A user to be told gets a notice on their desktop (`tell`), since a hidden
 * host shows nothing. `unattendedExecutable`: the grant's unpacked session host, for unattended access.
 */
export function windowsHostPlan(
  order: JoinSessionOrder,
  policy: Policy,
  unattendedExecutable: string | undefined,
): HostPlan {
  const { modes } = policy;
  const user = windowsConsoleUser();
  const elevated = order.elevated || !elevatedRefusal(order.operator, policy);
  const access = ACCESS_NAME[order.access];
  if (!user && !elevated)
    return nobody(
      `Nobody is logged in at this device's console, and the group's policy does not allow elevated tools for this operator: ${access} runs as the console user.`,
    );
  const offer = order.access === 'offer';
  const notify =
    order.access === 'background'
      ? policy.backgroundAccess.notifyUser
      : order.access === 'unattended' && policy.unattended.notifyUser;
  if (!user && (offer || notify))
    return nobody(`The user must be told of ${access}, and nobody is logged in at this device's console.`);
  const terminal = offer || !elevated ? inUserSession(offer) : undefined;
  if (user && (offer || !elevated) && !terminal)
    return nobody(`The session host could not be started in ${user.user}'s session.`);
  const filesRoot =
    user && !elevated
      ? win32.join(process.env['SystemDrive'] ?? 'C:', 'Users', user.user)
      : `${process.env['SystemDrive'] ?? 'C:'}\\`;
  // The screen is the interactive desktop's; DISPLAY only means something under Wine.
  const display = order.access === 'background' ? {} : { display: process.env['DISPLAY'] ?? 'winsta0' };
  const operator = order.operator.name;
  const tell =
    notify && !offer
      ? order.access === 'unattended'
        ? `${operator} of your help desk has opened an unattended session on this computer (your screen is shared).`
        : `${operator} of your help desk has opened a background session on this computer (${[
            modes.shell ? 'shell' : '',
            modes.files ? 'files' : '',
          ]
            .filter(Boolean)
            .join(' and ')}, no screen sharing).`
      : undefined;
  return {
    ok: true,
    spec: {
      allowed: order.access === 'background' ? { shell: modes.shell, files: modes.files } : modes,
      ...display,
      filesRoot,
      // Only a host in a window of its own talks to the user; a hidden one is told of by `tell`.
      notify: offer,
      consent: offer,
      ...(offer && order.reason ? { reason: order.reason } : {}),
    },
    launch: {
      terminal,
      ...(order.access === 'unattended' && unattendedExecutable ? { executable: unattendedExecutable } : {}),
    },
    account: user && (offer || !elevated) ? { user: user.user } : undefined,
    ...(tell ? { tell } : {}),
  };
}
