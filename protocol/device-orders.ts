import { z } from 'zod';
import { type Policy, policySchema, ROLES, type Role } from './policy.ts';
import { RESULT_CODES } from './result-codes.ts';
import { TOKEN_KINDS } from './token-kinds.ts';

/**
 * Orders from the control plane to a resident device. The hub forwards an `order` message whose
 * token the control plane signed for that one device (audience {@link deviceOrderAudience}); the
 * device verifies it with the control-plane keys it stored at enrolment (never keys from the hub
 * link), obeys it at most once, checks it against the group policy inside, and answers
 * `order-result`. A compromised hub or relay can drop or delay orders, never forge or widen one.
 *
 * Order kinds are an open union on `kind`: add a schema to {@link ORDER_SCHEMAS} and its policy
 * check to {@link ORDER_POLICY_CHECKS}, and the device's handler for it.
 */

/** The longest an order token lives, in seconds; the device refuses a longer one. */
export const ORDER_MAX_SECONDS = 60;

/** The audience of an order token: the device's own, so an order for one device is refused by every other. */
export function deviceOrderAudience(deviceId: string): string {
  return `${TOKEN_KINDS.deviceOrder.aud}:${deviceId}`;
}

/** Who asked for the order, so the device can check the role against the policy and tell its user. */
export const orderOperatorSchema = z.object({
  id: z.string().max(64),
  name: z.string().max(200),
  role: z.enum(ROLES),
});
export type OrderOperator = z.infer<typeof orderOperatorSchema>;

/**
 * What a session host may do in a session it joins by order: `background` shells and files without
 * the screen; `unattended` the full screen session of an unattended-access grant, granted without a
 * prompt; `offer` help offered to the user at the console, who accepts or refuses it.
 */
export const SESSION_ACCESS = ['background', 'unattended', 'offer'] as const;
export type SessionAccess = (typeof SESSION_ACCESS)[number];

/**
 * Join a session as its device side: the resident service starts a session host (the agent in its
 * `session-host` mode) that attaches to `sessionId` on the relay with `relay.token`, and verifies
 * and enforces the session's `policyToken`. `access: 'background'` grants shell and files, no
 * screen, without asking (README, "Background access").
 */
export const joinSessionOrderSchema = z.object({
  kind: z.literal('join-session'),
  access: z.enum(SESSION_ACCESS),
  sessionId: z.string().max(64),
  relay: z.object({ url: z.string().max(2048), token: z.string().max(4096) }),
  policyToken: z.string().max(8192),
  operator: orderOperatorSchema,
  /** `unattended` only: the grant of the start-unattended order the session belongs to. */
  grant: z.string().max(64).optional(),
  /** `offer` only: what the operator offers help with, shown to the user with the prompt. */
  reason: z.string().max(200).optional(),
  /**
   * `background` only: the administrator shell of elevated tools (README, "Elevated tools"): a shell
   * and no files, allowed by the policy's `elevatedTools` for the operator's role instead of its
   * background-access switch; the user at the console is told.
   */
  elevated: z.literal(true).optional(),
});
export type JoinSessionOrder = z.infer<typeof joinSessionOrderSchema>;

/**
 * Start unattended access (README, "Unattended access"): the device prepares a session host of its
 * own (unpacked in a folder of the grant) and answers `{ grant, password }`, a fresh dynamic
 * password the control plane keeps as a slow hash only. Until `linger` milliseconds after the last
 * session of the grant ends, `join-session` orders with `access: 'unattended'` and this grant are
 * obeyed; then the host and its folder are removed and the grant is forgotten.
 */
export const startUnattendedOrderSchema = z.object({
  kind: z.literal('start-unattended'),
  operator: orderOperatorSchema,
});
export type StartUnattendedOrder = z.infer<typeof startUnattendedOrderSchema>;

/** The shortest dynamic password of unattended access, in characters. */
export const UNATTENDED_PASSWORD_MIN_CHARS = 12;

/** The roles that may use elevated tools where the group's policy enables them (README, "Elevated tools"). */
export const ELEVATED_TOOL_ROLES: readonly Role[] = ['admin', 'manager'];

/** The most processes a `list-processes` answer carries (the rest are counted, not sent). */
export const MAX_LISTED_PROCESSES = 200;

/**
 * Elevated tools, the task manager: list the device's processes, as the resident service sees them,
 * whose name contains `name` (any case) when given; the device answers `{ processes, total }` with at
 * most {@link MAX_LISTED_PROCESSES} of them, the busiest first.
 */
export const listProcessesOrderSchema = z.object({
  kind: z.literal('list-processes'),
  operator: orderOperatorSchema,
  name: z.string().max(100).optional(),
});
export type ListProcessesOrder = z.infer<typeof listProcessesOrderSchema>;

/** Elevated tools: end process `pid` (SIGTERM, then SIGKILL after a grace); answers `{ pid, name, signal }`. */
export const endProcessOrderSchema = z.object({
  kind: z.literal('end-process'),
  operator: orderOperatorSchema,
  pid: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});
export type EndProcessOrder = z.infer<typeof endProcessOrderSchema>;

/** One process as `list-processes` reports it: cpu in percent of one core, memory resident in KiB. */
export const processInfoSchema = z.object({
  pid: z.number().int(),
  name: z.string().max(100),
  user: z.string().max(64),
  cpu: z.number(),
  memoryKiB: z.number().int(),
});
export type ProcessInfo = z.infer<typeof processInfoSchema>;

/** The most services a `list-services` answer carries (the rest are counted, not sent). */
export const MAX_LISTED_SERVICES = 500;

/**
 * A systemd service unit's name as the services tool accepts it: letters, digits and `@._:-`,
 * ending `.service`, never starting with `-` (so it cannot be read as an option).
 */
export const SERVICE_UNIT_PATTERN = /^[A-Za-z0-9@._:][A-Za-z0-9@._:-]{0,240}\.service$/;

/**
 * A Windows service's name as the services tool accepts it (`sc` on the device): letters, digits and
 * `._$@#{}~+-`, starting with a letter, digit or `_` (so it cannot be read as an option), no spaces.
 */
export const WINDOWS_SERVICE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.$@#{}~+-]{0,255}$/;

/** A service name of either platform; the device checks its own platform's pattern again. */
export const SERVICE_NAME_PATTERN = new RegExp(
  `(?:${SERVICE_UNIT_PATTERN.source})|(?:${WINDOWS_SERVICE_PATTERN.source})`,
);

/** What the services tool may do to a service. */
export const SERVICE_ACTIONS = ['start', 'stop', 'restart'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

/**
 * Elevated tools, services: the device's service units as its service manager lists them
 * (`systemctl list-units --type=service --all`); answers `{ services, total }`, at most
 * {@link MAX_LISTED_SERVICES}.
 */
export const listServicesOrderSchema = z.object({
  kind: z.literal('list-services'),
  operator: orderOperatorSchema,
});
export type ListServicesOrder = z.infer<typeof listServicesOrderSchema>;

/** Elevated tools: start, stop or restart service `unit`; answers `{ unit, action }`. */
export const serviceActionOrderSchema = z.object({
  kind: z.literal('service-action'),
  operator: orderOperatorSchema,
  unit: z.string().regex(SERVICE_NAME_PATTERN),
  action: z.enum(SERVICE_ACTIONS),
});
export type ServiceActionOrder = z.infer<typeof serviceActionOrderSchema>;

/** One service as `list-services` reports it (systemd's columns). */
export const serviceInfoSchema = z.object({
  unit: z.string().max(256),
  load: z.string().max(32),
  active: z.string().max(32),
  sub: z.string().max(32),
  description: z.string().max(200),
});
export type ServiceInfo = z.infer<typeof serviceInfoSchema>;

/** The registry's root keys the registry editor opens (Windows only), by the short names `reg.exe` takes. */
export const REGISTRY_ROOTS = ['HKLM', 'HKCU', 'HKU', 'HKCR'] as const;

/**
 * A registry key path as the registry editor accepts it: a root of {@link REGISTRY_ROOTS}, then
 * `\`-separated key names, none empty, none with a control character, each at most 255 characters.
 */
export const REGISTRY_KEY_PATTERN = /^(?:HKLM|HKCU|HKU|HKCR)(?:\\[^\\\p{Cc}]{1,255})*$/u;

/** A value name (empty: the key's default value): no control characters. */
export const registryValueNameSchema = z
  .string()
  .max(255)
  .regex(/^[^\p{Cc}]*$/u, 'no control characters');

export const registryKeySchema = z
  .string()
  .max(2048)
  .regex(REGISTRY_KEY_PATTERN, 'a key under HKLM, HKCU, HKU or HKCR');

/** The value types the registry editor writes. */
export const REGISTRY_TYPES = ['REG_SZ', 'REG_EXPAND_SZ', 'REG_MULTI_SZ', 'REG_DWORD', 'REG_QWORD'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

/** One value the editor writes: text for the string types, lines for multi-string, digits for the numbers. */
export const registryDataSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.enum(['REG_SZ', 'REG_EXPAND_SZ']),
    data: z
      .string()
      .max(16_384)
      .regex(/^[^\0]*$/u),
  }),
  z.object({
    type: z.literal('REG_MULTI_SZ'),
    data: z
      .array(
        z
          .string()
          .min(1)
          .max(16_384)
          .regex(/^[^\0]*$/u),
      )
      .max(1_000),
  }),
  z.object({
    type: z.literal('REG_DWORD'),
    data: z
      .string()
      .regex(/^\d{1,10}$/)
      .refine((d) => BigInt(d) < 2n ** 32n, 'at most 4294967295'),
  }),
  z.object({
    type: z.literal('REG_QWORD'),
    data: z
      .string()
      .regex(/^\d{1,20}$/)
      .refine((d) => BigInt(d) < 2n ** 64n, 'at most 18446744073709551615'),
  }),
]);
export type RegistryData = z.infer<typeof registryDataSchema>;

/** The most subkeys and values a `registry-read` answer carries, each (the rest are counted). */
export const MAX_REGISTRY_ENTRIES = 1_000;

/**
 * Elevated tools, registry editor (Windows): the subkeys and values of `key`, as `reg query` shows
 * them; answers `{ key, subkeys, values, total }`.
 */
export const registryReadOrderSchema = z.object({
  kind: z.literal('registry-read'),
  operator: orderOperatorSchema,
  key: registryKeySchema,
});
export type RegistryReadOrder = z.infer<typeof registryReadOrderSchema>;

/** What the registry editor changes: set a value (creating its key), delete a value, create or delete a key. */
export const registryChangeSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('set-value'),
    key: registryKeySchema,
    name: registryValueNameSchema,
    value: registryDataSchema,
  }),
  z.object({ op: z.literal('delete-value'), key: registryKeySchema, name: registryValueNameSchema }),
  z.object({ op: z.literal('create-key'), key: registryKeySchema }),
  z.object({ op: z.literal('delete-key'), key: registryKeySchema }),
]);
export type RegistryChange = z.infer<typeof registryChangeSchema>;

/** Elevated tools, registry editor: one change through `reg.exe`; answers `{ op, key }`. */
export const registryChangeOrderSchema = z.object({
  kind: z.literal('registry-change'),
  operator: orderOperatorSchema,
  change: registryChangeSchema,
});
export type RegistryChangeOrder = z.infer<typeof registryChangeOrderSchema>;

/** One value as `registry-read` reports it: its data as `reg query` prints it. */
export const registryValueSchema = z.object({
  name: z.string().max(255),
  type: z.string().max(32),
  data: z.string().max(65_536),
});
export type RegistryValue = z.infer<typeof registryValueSchema>;

/** Every order kind; add new kinds here. */
const ORDER_SCHEMAS = [
  joinSessionOrderSchema,
  startUnattendedOrderSchema,
  listProcessesOrderSchema,
  endProcessOrderSchema,
  listServicesOrderSchema,
  serviceActionOrderSchema,
  registryReadOrderSchema,
  registryChangeOrderSchema,
] as const;

export const deviceOrderSchema = z.discriminatedUnion('kind', ORDER_SCHEMAS);
export type DeviceOrder = z.infer<typeof deviceOrderSchema>;
export type DeviceOrderKind = DeviceOrder['kind'];

/** The claims of an order token beyond the registered ones. */
export const orderClaimsSchema = z.object({ ord: deviceOrderSchema, pol: policySchema });

/**
 * Why the policy refuses an order, or undefined when it allows it: one check per kind, run by the
 * control plane before signing (to answer the operator at once) and by the device before obeying.
 */
export const ORDER_POLICY_CHECKS: {
  [K in DeviceOrderKind]: (order: Extract<DeviceOrder, { kind: K }>, policy: Policy) => string | undefined;
} = {
  'join-session': (order, policy) => {
    if (order.access === 'unattended') return unattendedRefusal(order.operator, policy);
    if (order.access === 'offer' && !policy.modes.view)
      return "The group's policy does not allow screen sessions.";
    if (order.access === 'background' && order.elevated)
      return (
        elevatedRefusal(order.operator, policy) ??
        (policy.modes.shell ? undefined : "The group's policy does not allow shells.")
      );
    if (order.access === 'background') {
      if (!policy.backgroundAccess.allowed) return "The group's policy does not allow background access.";
      if (!policy.backgroundAccess.roles.includes(order.operator.role))
        return `The group's policy does not allow background access for the ${order.operator.role} role.`;
      if (!policy.modes.shell && !policy.modes.files)
        return "The group's policy allows neither shells nor files.";
    }
    return undefined;
  },
  'start-unattended': (order, policy) => unattendedRefusal(order.operator, policy),
  'list-processes': (order, policy) => elevatedRefusal(order.operator, policy),
  'end-process': (order, policy) => elevatedRefusal(order.operator, policy),
  'list-services': (order, policy) => elevatedRefusal(order.operator, policy),
  'service-action': (order, policy) => elevatedRefusal(order.operator, policy),
  'registry-read': (order, policy) => elevatedRefusal(order.operator, policy),
  'registry-change': (order, policy) => elevatedRefusal(order.operator, policy),
};

/** Why `operator` may not use elevated tools under `policy`; undefined when they may. */
export function elevatedRefusal(operator: OrderOperator, policy: Policy): string | undefined {
  if (!policy.elevatedTools) return "The group's policy does not allow elevated tools.";
  if (!ELEVATED_TOOL_ROLES.includes(operator.role))
    return `Elevated tools are not allowed for the ${operator.role} role.`;
  return undefined;
}

function unattendedRefusal(operator: OrderOperator, policy: Policy): string | undefined {
  if (!policy.unattended.allowed) return "The group's policy does not allow unattended access.";
  if (!policy.unattended.roles.includes(operator.role))
    return `The group's policy does not allow unattended access for the ${operator.role} role.`;
  return undefined;
}

/** Why `policy` refuses `order`, or undefined when it allows it. */
export function orderRefusal(order: DeviceOrder, policy: Policy): string | undefined {
  const check = ORDER_POLICY_CHECKS[order.kind] as (order: DeviceOrder, policy: Policy) => string | undefined;
  return check(order, policy);
}

/** A device's answer to an order: done (with what the kind reports), or a result code and why. */
export const orderResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), detail: z.record(z.string(), z.unknown()).optional() }),
  z.object({ ok: z.literal(false), code: z.enum(RESULT_CODES), message: z.string().max(500) }),
]);
export type OrderResult = z.infer<typeof orderResultSchema>;
