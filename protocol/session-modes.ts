import type { Capability, Permissions } from './permissions.ts';

/**
 * The session modes in their order of precedence (BigFix's "next enabled session mode"): when the
 * policy (or the agent's flags) forbid the mode an operator asks for, the session starts in the next
 * one allowed after it.
 */
export const SESSION_MODES = ['control', 'guidance', 'view', 'chat', 'files'] as const;

export type SessionMode = (typeof SESSION_MODES)[number];

/** The capabilities each mode needs: guidance and control show the screen too. */
export const MODE_CAPABILITIES: Readonly<Record<SessionMode, readonly Capability[]>> = Object.freeze({
  control: ['view', 'control'],
  guidance: ['view', 'guidance'],
  view: ['view'],
  chat: ['chat'],
  files: ['files'],
});

/** What the session opens with: the mode asked for, the one it starts in, and the ones the user may pick. */
export interface ModeOffer {
  /** The first mode, in the order, whose capabilities the operator asked for; undefined when none. */
  asked: SessionMode | undefined;
  /** The mode the session starts in: `asked` when allowed, else the next allowed one. */
  starts: SessionMode | undefined;
  /** Every mode the flags and the policy allow, in the order: what the user may choose instead. */
  allowed: SessionMode[];
  /** What the user is asked to allow: the request, plus the starting mode's needs, within `allowedCaps`. */
  offer: Permissions;
}

function modeFits(mode: SessionMode, permissions: Permissions): boolean {
  return MODE_CAPABILITIES[mode].every((capability) => permissions[capability]);
}

/**
 * Where the operator's request meets what may be allowed (the agent's flags and the signed policy,
 * as `allowedCaps`): the request is capped, and when the mode asked for is forbidden the next allowed
 * mode in {@link SESSION_MODES} is offered in its place.
 *
 * @example
 * // The policy forbids control: an operator asking for it is offered guidance.
 * offerModes({ ...DEFAULT_OFFER, control: true }, { ...ALL_PERMISSIONS, control: false }).starts;
 * // 'guidance'
 */
export function offerModes(requested: Permissions, allowedCaps: Permissions): ModeOffer {
  const allowed = SESSION_MODES.filter((mode) => modeFits(mode, allowedCaps));
  const asked = SESSION_MODES.find((mode) => modeFits(mode, requested));
  const from = asked === undefined ? SESSION_MODES.length : SESSION_MODES.indexOf(asked);
  const starts = allowed.find((mode) => SESSION_MODES.indexOf(mode) >= from);
  const offer = { ...requested };
  for (const capability of starts ? MODE_CAPABILITIES[starts] : []) offer[capability] = true;
  for (const capability of Object.keys(offer) as Capability[]) {
    offer[capability] = offer[capability] && allowedCaps[capability];
  }
  return { asked, starts, allowed, offer };
}
