import {
  MAX_REGISTRY_ENTRIES,
  type OrderResult,
  REGISTRY_KEY_PATTERN,
  type RegistryChange,
  type RegistryChangeOrder,
  type RegistryData,
  type RegistryReadOrder,
  type RegistryValue,
} from '../../protocol/index.ts';
import { windowsConsoleUser } from './windows/user-session.ts';
import { runTool } from './windows-commands.ts';

/** How long one `reg` run may take, in milliseconds. */
const REG_TIMEOUT_MS = 60_000;

/** How `reg query` names each root the editor takes. */
const ROOT_NAMES = {
  HKLM: 'HKEY_LOCAL_MACHINE',
  HKCU: 'HKEY_CURRENT_USER',
  HKU: 'HKEY_USERS',
  HKCR: 'HKEY_CLASSES_ROOT',
} as const;

/** What `reg query` calls a key's default (unnamed) value. */
const DEFAULT_VALUE = '(Default)';

type Failure = Extract<OrderResult, { ok: false }>;

const NOT_HERE: Failure = {
  ok: false,
  code: 'NOT_SUPPORTED',
  message: 'The registry editor is only available on Windows devices.',
};

/** The key as `reg query` prints it: its root's long name, then the rest as given. */
function fullName(key: string): string {
  const [root, ...rest] = key.split('\\');
  return [ROOT_NAMES[root as keyof typeof ROOT_NAMES], ...rest].join('\\');
}

/**
 * The values and subkeys of `reg query KEY` (not recursive): the key's own line, its values
 * indented by four spaces (`name    TYPE    data`, the default value named `(Default)`, reported
 * with an empty name), then one line per subkey with its full path.
 */
export function parseRegQuery(text: string, key: string): { subkeys: string[]; values: RegistryValue[] } {
  const prefix = `${fullName(key)}\\`.toLowerCase();
  const subkeys: string[] = [];
  const values: RegistryValue[] = [];
  for (const line of text.split('\n')) {
    const value = /^ {4}(.*?) {4}(REG_[A-Z0-9_]+)(?: {4}(.*))?$/.exec(line);
    if (value) {
      const name = value[1] === DEFAULT_VALUE ? '' : value[1]!;
      values.push({ name: name.slice(0, 255), type: value[2]!, data: (value[3] ?? '').slice(0, 65_536) });
    } else if (line.toLowerCase().startsWith(prefix)) {
      const subkey = line.slice(prefix.length).trimEnd();
      if (subkey && !subkey.includes('\\')) subkeys.push(subkey);
    }
  }
  return { subkeys, values };
}

/**
 * Where `key` is in the registry `reg` sees: a key under HKCU is the console user's hive
 * (`HKU\<their SID>\…`), not the service's own (SYSTEM's); with the user's name. A failure
 * when a key under HKCU is asked for and nobody is logged in at the console.
 */
function resolveKey(key: string): { key: string; currentUser?: string } | Failure {
  const [root, ...rest] = key.split('\\');
  if (root?.toUpperCase() !== 'HKCU') return { key };
  const user = windowsConsoleUser();
  if (!user?.sid)
    return {
      ok: false,
      code: 'NOT_SUPPORTED',
      message: "HKCU is the console user's, and nobody is logged in at this device's console.",
    };
  return { key: ['HKU', user.sid, ...rest].join('\\'), currentUser: user.user };
}

/** The result of a `reg` run that failed: what its message says, as a result code. */
function regFailure(what: string, output: string): Failure {
  const why = output.trim().replace(/\s+/g, ' ');
  const code = /unable to find|cannot find|not find/i.test(why)
    ? 'NOT_FOUND'
    : /access is denied/i.test(why)
      ? 'FORBIDDEN'
      : 'CONFLICT';
  return { ok: false, code, message: `${what}: ${why || 'reg failed'}`.slice(0, 500) };
}

/** The key's subkeys and values, at most {@link MAX_REGISTRY_ENTRIES} of each. */
export async function readRegistry(order: RegistryReadOrder): Promise<OrderResult> {
  if (process.platform !== 'win32') return NOT_HERE;
  const { key } = order;
  if (!REGISTRY_KEY_PATTERN.test(key)) return { ok: false, code: 'VALIDATION_FAILED', message: 'Not a key.' };
  const resolved = resolveKey(key);
  if ('ok' in resolved) return resolved;
  try {
    const query = await runTool('reg', ['query', resolved.key], REG_TIMEOUT_MS);
    if (query.status !== 0) return regFailure(`${key} could not be read`, query.stderr || query.stdout);
    const { subkeys, values } = parseRegQuery(query.stdout, resolved.key);
    subkeys.sort((a, b) => a.localeCompare(b));
    return {
      ok: true,
      detail: {
        key,
        subkeys: subkeys.slice(0, MAX_REGISTRY_ENTRIES),
        values: values.slice(0, MAX_REGISTRY_ENTRIES),
        total: { subkeys: subkeys.length, values: values.length },
        ...(resolved.currentUser ? { currentUser: resolved.currentUser } : {}),
      },
    };
  } catch (error) {
    return { ok: false, code: 'INTERNAL', message: `reg failed: ${(error as Error).message}`.slice(0, 500) };
  }
}

/** Separators `reg add /s` may take for a multi-string; the first that no line holds is used. */
const MULTI_SEPARATORS = ['|', '~', '^', '`', '#', '\u00a7', '\u00b6'];

/** `reg add`'s `/t TYPE /d DATA` (and `/s SEP` for a multi-string) for a value; a failure when it cannot. */
function dataArgs(value: RegistryData): string[] | Failure {
  if (value.type !== 'REG_MULTI_SZ') return ['/t', value.type, '/d', value.data];
  const separator = MULTI_SEPARATORS.find((s) => value.data.every((line) => !line.includes(s)));
  if (!separator)
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: 'The lines hold every separator reg.exe could use.',
    };
  return ['/t', 'REG_MULTI_SZ', '/s', separator, '/d', value.data.join(separator)];
}

/** `/v NAME`, or `/ve` for the key's default value. */
const nameArgs = (name: string) => (name === '' ? ['/ve'] : ['/v', name]);

/** The `reg` arguments of a change; a failure for a change the editor does not make. */
function changeArgs(change: RegistryChange): string[] | Failure {
  switch (change.op) {
    case 'set-value': {
      const data = dataArgs(change.value);
      if (!Array.isArray(data)) return data;
      return ['add', change.key, ...nameArgs(change.name), ...data, '/f'];
    }
    case 'delete-value':
      return ['delete', change.key, ...nameArgs(change.name), '/f'];
    case 'create-key':
      return ['add', change.key, '/f'];
    case 'delete-key':
      // A root's own keys (HKLM\SOFTWARE, HKU\S-1-5-18…) hold the system: never deleted whole.
      if (change.key.split('\\').length < 3)
        return {
          ok: false,
          code: 'VALIDATION_FAILED',
          message: 'The registry editor does not delete a root or a key right under a root.',
        };
      return ['delete', change.key, '/f'];
  }
}

/**
 * Makes one change through `reg.exe` with an argument array (`/f`: no prompt); the key is checked
 * against {@link REGISTRY_KEY_PATTERN} again here. Answers `{ op, key }` (and `name`), never the data.
 */
export async function changeRegistry(order: RegistryChangeOrder): Promise<OrderResult> {
  if (process.platform !== 'win32') return NOT_HERE;
  const { change } = order;
  if (!REGISTRY_KEY_PATTERN.test(change.key))
    return { ok: false, code: 'VALIDATION_FAILED', message: 'Not a key.' };
  // Checked as given (a key right under HKCU is one under a root), then made for the hive it means.
  const checked = changeArgs(change);
  if (!Array.isArray(checked)) return checked;
  const resolved = resolveKey(change.key);
  if ('ok' in resolved) return resolved;
  const args = changeArgs({ ...change, key: resolved.key });
  if (!Array.isArray(args)) return args;
  try {
    const run = await runTool('reg', args, REG_TIMEOUT_MS);
    if (run.status !== 0) return regFailure(`${change.op} ${change.key}`, run.stderr || run.stdout);
    return {
      ok: true,
      detail: { op: change.op, key: change.key, ...('name' in change ? { name: change.name } : {}) },
    };
  } catch (error) {
    return { ok: false, code: 'INTERNAL', message: `reg failed: ${(error as Error).message}`.slice(0, 500) };
  }
}
