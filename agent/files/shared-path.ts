import { readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ChannelFailure } from '../core/channel-failure.ts';

/** How deep links may point at links before a path is refused (Linux's own limit is 40). */
const MAX_LINK_HOPS = 40;

/** Which path rules apply: the separators and names of the device's OS. */
export type PathStyle = 'posix' | 'windows';

const DEFAULT_STYLE: PathStyle = path.sep === '\\' ? 'windows' : 'posix';

/** Characters Windows does not allow in a name (`:` would also name an alternate data stream). */
const WINDOWS_FORBIDDEN = /[<>:"|?*\\]/;

function outside(why: string): ChannelFailure {
  return new ChannelFailure(
    'PATH_OUTSIDE_FOLDER',
    `The path ${why}; only paths inside the shared folder are allowed.`,
  );
}

/**
 * The segments of a wire path, or a PATH_OUTSIDE_FOLDER failure. Rules, on every OS: `/` separates
 * segments, empty and `.` segments are ignored, and a path is refused when it contains a NUL byte, is
 * absolute (`/etc`, `//server/share`), starts with a drive letter (`C:`, `c:/x`) or has a `..`
 * segment (even `a/../b`, which would stay inside: there is no reason to send one).
 * A backslash is an ordinary character of a name on Linux and macOS, where it is one; on Windows,
 * where it would be a separator that the checks above did not see, it is refused, and so are the
 * other characters Windows does not allow in names and names ending in a dot or a space (Windows
 * drops those, so `.. ` would mean `..`).
 */
export function wirePathSegments(wirePath: string, style: PathStyle = DEFAULT_STYLE): string[] {
  if (wirePath.includes('\0')) throw outside('contains a NUL byte');
  if (wirePath.startsWith('/')) throw outside('is absolute');
  if (/^[A-Za-z]:/.test(wirePath)) throw outside('starts with a drive letter');
  const segments = wirePath.split('/').filter((segment) => segment !== '' && segment !== '.');
  for (const segment of segments) {
    if (segment === '..') throw outside('goes up with ..');
    if (style === 'windows' && (WINDOWS_FORBIDDEN.test(segment) || /[. ]$/.test(segment))) {
      throw outside(`has a name Windows does not allow (${segment})`);
    }
  }
  return segments;
}

/** Whether `candidate` is `root` or inside it (both absolute and real). */
export function isInside(root: string, candidate: string, style: PathStyle = DEFAULT_STYLE): boolean {
  const paths = style === 'windows' ? path.win32 : path.posix;
  const relative = paths.relative(root, candidate);
  return (
    relative === '' ||
    (!relative.startsWith(`..${paths.sep}`) && relative !== '..' && !paths.isAbsolute(relative))
  );
}

/**
 * The real path of `target`, following every link, also when `target` or its ancestors do not exist
 * yet: the missing part is appended to the real path of the deepest ancestor that exists. A link
 * whose target is missing is followed to where it points, so writing through it cannot create a file
 * outside the folder.
 */
async function realpathDeep(target: string, hops = 0): Promise<string> {
  try {
    return await realpath(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
  }
  const parent = path.dirname(target);
  if (parent === target) return target;
  const real = path.join(await realpathDeep(parent, hops), path.basename(target));
  let link: string;
  try {
    link = await readlink(real);
  } catch {
    return real; // Nothing there (or not a link): a path still to be created.
  }
  if (hops >= MAX_LINK_HOPS) throw new ChannelFailure('IO_ERROR', 'Too many levels of links.');
  return realpathDeep(path.resolve(path.dirname(real), link), hops + 1);
}

export interface ResolveOptions {
  /**
   * Whether a link in the last segment is followed (reading, writing, listing) or named itself
   * (deleting or renaming the link, not what it points to). Default true.
   */
  followLast?: boolean;
}

/**
 * The absolute path on this device that a wire path names inside the shared folder `root` (an
 * absolute, real path). Refuses with PATH_OUTSIDE_FOLDER what `wirePathSegments` refuses and any
 * link, anywhere on the way, that leads outside `root`. The check and the later use are separate
 * system calls, so a local user racing to swap a link in between is not stopped; an operator cannot
 * create links through Lifeline.
 *
 * @example
 * await resolveSharedPath('/home/ada', 'Documents/report.pdf'); // '/home/ada/Documents/report.pdf'
 * await resolveSharedPath('/home/ada', '../bob/.ssh/id_ed25519'); // throws PATH_OUTSIDE_FOLDER
 */
export async function resolveSharedPath(
  root: string,
  wirePath: string,
  options: ResolveOptions = {},
): Promise<string> {
  const segments = wirePathSegments(wirePath);
  const joined = path.join(root, ...segments);
  let resolved: string;
  try {
    if (options.followLast === false && segments.length > 0) {
      resolved = path.join(await realpathDeep(path.dirname(joined)), path.basename(joined));
    } else {
      resolved = await realpathDeep(joined);
    }
  } catch (error) {
    if (error instanceof ChannelFailure) throw error;
    throw new ChannelFailure('IO_ERROR', `The path cannot be resolved: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isInside(root, resolved, DEFAULT_STYLE)) throw outside('leads outside through a link');
  return resolved;
}
