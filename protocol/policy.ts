import { z } from 'zod';

/** Operator roles. Administrators manage everything; auditors only read. */
export const ROLES = ['admin', 'manager', 'technician', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

const rolesSchema = z.array(z.enum(ROLES)).max(ROLES.length);

/**
 * What sessions with the devices of a group may do. The control plane signs the effective policy into
 * each session's tokens; the agent verifies the signature and enforces it, so neither a modified
 * console nor the relay can widen it.
 */
export const policySchema = z.object({
  /** Session modes that may be offered to the end user at all. */
  modes: z.object({
    view: z.boolean(),
    control: z.boolean(),
    chat: z.boolean(),
    files: z.boolean(),
    shell: z.boolean(),
    /** Clipboard text both ways. Absent from policies saved before it existed: allowed (with consent). */
    clipboard: z.boolean().default(true),
    /** Marks drawn over the user's screen (README "Guidance"). Absent from older policies: allowed. */
    guidance: z.boolean().default(true),
  }),
  /** When false, an attended session starts with the allowed modes without asking (kiosks, servers). */
  consentRequired: z.boolean(),
  /**
   * Unattended access (README, "Unattended access"): who may start it, and whether the user at the
   * device is told while a session runs (a policy stored before the switch existed tells the user).
   */
  unattended: z.object({ allowed: z.boolean(), roles: rolesSchema, notifyUser: z.boolean().default(true) }),
  backgroundAccess: z.object({ allowed: z.boolean(), roles: rolesSchema, notifyUser: z.boolean() }),
  /** Whether elevated (administrator) tools may be offered in sessions. */
  elevatedTools: z.boolean(),
  recordingMandatory: z.boolean(),
  codeLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
  /** Minutes without operator input before a session ends; 0 for never. */
  idleTimeoutMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60),
  /** Longest a session may last, in minutes; 0 for no limit. */
  maxSessionMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60),
  /** Longest an invitation an end user creates may stay open, in minutes; 0 forbids invitations. */
  invitationMaxMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(6 * 60),
  /** In attended sessions, each file an operator sends is offered to the end user to accept or refuse. */
  confirmIncomingFiles: z.boolean().default(true),
  /**
   * Whether the user may open the file manager to every drive or mount of the device, not only the
   * shared folder (README "Files"). The user still grants it; absent from older policies: not allowed.
   */
  filesAllRoots: z.boolean().default(false),
});

export type Policy = z.infer<typeof policySchema>;

/** The policy of a new group: attended help with consent, input and files off until the user allows. */
export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze<Policy>({
  modes: { view: true, control: true, chat: true, files: true, shell: true, clipboard: true, guidance: true },
  consentRequired: true,
  unattended: { allowed: false, roles: ['admin'], notifyUser: true },
  backgroundAccess: { allowed: false, roles: ['admin'], notifyUser: true },
  elevatedTools: false,
  recordingMandatory: false,
  codeLifetimeMinutes: 15,
  idleTimeoutMinutes: 30,
  maxSessionMinutes: 8 * 60,
  invitationMaxMinutes: 6 * 60,
  confirmIncomingFiles: true,
  filesAllRoots: false,
});
