/**
 * Where a console link points: its hash, `#/<page>?<params>` (`#/sessions?invitation=<id>`,
 * `#/audit?session=<id>`). The hash never reaches a server or its logs. The console navigates by it,
 * the server writes invitation links with it and the console reads invitation files with it.
 */
export interface ConsoleHash {
  /** The page: `sessions`, `audit`, …; whatever the hash says, unchecked. */
  path: string;
  params: Record<string, string>;
}

/**
 * Reads a console link's hash.
 * @example parseConsoleHash('#/audit?session=abc') // { path: 'audit', params: { session: 'abc' } }
 */
export function parseConsoleHash(hash: string): ConsoleHash {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const params: Record<string, string> = {};
  // forEach, not Object.fromEntries: URLSearchParams is iterable only with the DOM.Iterable types.
  new URLSearchParams(search).forEach((value, name) => {
    params[name] = value;
  });
  return { path, params };
}

/**
 * The hash of a console location.
 * @example consoleHash({ path: 'audit', params: { session: 'a b' } }) // '#/audit?session=a+b'
 */
export function consoleHash(location: ConsoleHash): string {
  const search = new URLSearchParams(location.params).toString();
  return `#/${location.path}${search ? `?${search}` : ''}`;
}

/** The hash of an invitation's link: the sessions page, opening that invitation. */
export function invitationHash(invitationId: string): string {
  return consoleHash({ path: 'sessions', params: { invitation: invitationId } });
}

/** The invitation a console hash opens ({@link invitationHash}), or undefined when it opens none. */
export function invitationOfHash(hash: string): string | undefined {
  const { path, params } = parseConsoleHash(hash);
  return path === 'sessions' ? params['invitation'] || undefined : undefined;
}
