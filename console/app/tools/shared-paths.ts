/**
 * Paths inside the folder the agent shares travel relative to it, `/`-separated, with `''` for
 * the folder itself (protocol/messages.ts). These helpers build and take them apart.
 */

/** The path of `name` inside `folder`. */
export function joinPath(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}

/** The folder that holds `path`; `''` for anything directly in the shared folder. */
export function parentPath(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '' : path.slice(0, cut);
}

/** The last part of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** One step of the breadcrumb trail: a folder's name and its path. */
export interface Crumb {
  name: string;
  path: string;
}

/**
 * Every folder from the shared folder down to `path`.
 * @example
 * breadcrumbs('docs/2024', 'Home') // [{ name: 'Home', path: '' }, { name: 'docs', path: 'docs' }, { name: '2024', path: 'docs/2024' }]
 */
export function breadcrumbs(path: string, rootName: string): Crumb[] {
  const crumbs: Crumb[] = [{ name: rootName, path: '' }];
  let at = '';
  for (const part of path.split('/').filter(Boolean)) {
    crumbs.push({ name: at === '' ? rootLabel(part) : part, path: joinPath(at, part) });
    at = joinPath(at, part);
  }
  return crumbs;
}

/**
 * How a top-level name reads: a root of an agent that shares every drive or mount (README "Files")
 * is named by its path, URI-encoded (`%2Fhome`, `C%3A%5C`), and shown as that path; any other name
 * as it is.
 */
export function rootLabel(name: string): string {
  if (!/^(%2F|[A-Za-z]%3A%5C)/.test(name)) return name;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** The top of an agent that shares every drive or mount: a list of its roots, not a folder. */
export const ALL_ROOTS_NAME = 'This device';

/**
 * Whether a listing is of an agent that shares every drive or mount: its paths start with a root
 * (`%2Fhome/…`), and its top lists only roots.
 */
export function sharesAllRoots(path: string, names: readonly string[]): boolean {
  const first = path.split('/')[0] ?? '';
  if (first !== '') return rootLabel(first) !== first;
  return names.length > 0 && names.every((name) => rootLabel(name) !== name);
}

/**
 * Why a name typed for a new folder or a rename cannot be used, or null when it can. The agent
 * checks paths again; this catches what would only lead to a confusing refusal.
 */
export function invalidNameReason(name: string): string | null {
  if (name.trim() === '') return 'Type a name.';
  if (name === '.' || name === '..') return 'That name is reserved.';
  if (/[/\\]/.test(name)) return 'A name cannot contain / or \\.';
  if (name.includes('\0')) return 'A name cannot contain a NUL character.';
  if (name.length > 255) return 'That name is too long.';
  return null;
}
