/** One value that differs between the before and after of an audited change. */
export interface Change {
  /** Dotted path into the object, `''` for a plain value: `modes.shell`, `unattended.roles`. */
  path: string;
  before: unknown;
  after: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The leaves that differ between two values, depth first; arrays count as one value.
 * @example changes({ modes: { shell: true } }, { modes: { shell: false } })
 * // [{ path: 'modes.shell', before: true, after: false }]
 */
export function changes(before: unknown, after: unknown, path = ''): Change[] {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => changes(before[key], after[key], path ? `${path}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
}

/** A value of an audit event as short text: strings bare, lists joined, the rest as JSON. */
export function valueText(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(valueText).join(', ');
  return JSON.stringify(value);
}
