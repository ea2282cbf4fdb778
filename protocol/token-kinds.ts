/**
 * Every kind of token has its own audience and `typ`, so a token minted for one purpose is refused
 * everywhere else. The control plane mints them; the agent verifies the policy and stamp kinds.
 */
export const TOKEN_KINDS = {
  /** The console's login cookie. */
  console: { aud: 'lifeline:console', typ: 'lifeline-console+jwt' },
  /** Lets an operator's socket join one session on the relay; single use, a minute long. */
  relayOperator: { aud: 'lifeline:relay-operator', typ: 'lifeline-relay-operator+jwt' },
  /** Lets an agent's socket attach to the session it registered. */
  relayAgent: { aud: 'lifeline:relay-agent', typ: 'lifeline-relay-agent+jwt' },
  /** The effective policy of a session, for the agent to verify and enforce. */
  agentPolicy: { aud: 'lifeline:agent-policy', typ: 'lifeline-agent-policy+jwt' },
  /**
   * The configuration appended to each agent download (see protocol/agent-stamp.ts):
   * `sub` platform, `exe` build digest, optionally `sid` + `relay`.
   */
  agentStamp: { aud: 'lifeline:agent-stamp', typ: 'lifeline-agent-stamp+jwt' },
  /** A browser an operator logged in from (`sub` the operator): exempts it from the account-wide login delay. */
  loginDevice: { aud: 'lifeline:login-device', typ: 'lifeline-login-device+jwt' },
  /**
   * An enrolled device proving who it is, signed by the device's own key (`sub` and `iss` the
   * device id); its audience is this prefix followed by `:<device id>` (see `deviceAudience`).
   */
  deviceIdentity: { aud: 'lifeline:device', typ: 'lifeline-device+jwt' },
  /**
   * An order from the control plane to one resident device (see protocol/device-orders.ts): `sub`
   * the device id, `ord` what to do, `pol` the group's policy in force; at most a minute long, used
   * once. Its audience is this prefix followed by `:<device id>` (see `deviceOrderAudience`).
   */
  deviceOrder: { aud: 'lifeline:device-order', typ: 'lifeline-device-order+jwt' },
} as const;

export type TokenKind = keyof typeof TOKEN_KINDS;
