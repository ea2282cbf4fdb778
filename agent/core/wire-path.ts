/**
 * Wire paths name things inside the shared folder: relative, `/`-separated, `''` for the folder.
 * These helpers only shape them; the host resolves them and refuses anything leaving the folder.
 */

/** Suffix of an upload in progress, beside its target: `report.pdf.lifeline-part`. */
export const PART_SUFFIX = '.lifeline-part';

/** The segments of a wire path, without empty and `.` segments (`a//./b/` is `a/b`). */
export function wireSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/** An absolute path is kept as it is, for the host to refuse rather than to be read as relative. */
function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

/** The canonical spelling of a wire path. */
export function normalizeWirePath(path: string): string {
  return isAbsolute(path) ? path : wireSegments(path).join('/');
}

/** The folder a wire path is in (`''` for the shared folder's own entries). */
export function parentOf(path: string): string {
  return isAbsolute(path) ? path : wireSegments(path).slice(0, -1).join('/');
}

/** Where an upload to `path` is written until it is complete. */
export function partPathOf(path: string): string {
  return `${normalizeWirePath(path)}${PART_SUFFIX}`;
}

/** A wire path as the end user reads it: under the shared folder's path on this device. */
export function displayPath(root: string, path: string): string {
  const normal = wireSegments(path).join('/');
  if (!normal) return root;
  return `${root.replace(/[\\/]+$/, '')}/${normal}`;
}

/**
 * The wire path the end user chose for an incoming file: a bare name keeps the folder the operator
 * chose, a name with `/` (or `\`) is a path inside the shared folder. Undefined for anything that
 * would leave it or name nothing (absolute, `..`, empty, a part file's name).
 */
export function renamedPath(original: string, typed: string): string | undefined {
  const text = typed.trim().replaceAll('\\', '/');
  if (!text || isAbsolute(text) || /^[A-Za-z]:/.test(text)) return undefined;
  const segments = wireSegments(text);
  if (segments.length === 0 || segments.includes('..')) return undefined;
  if (segments.at(-1)!.endsWith(PART_SUFFIX)) return undefined;
  const folder = text.includes('/') ? [] : wireSegments(parentOf(original));
  return [...folder, ...segments].join('/');
}
