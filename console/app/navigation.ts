import { consoleHash, parseConsoleHash } from '../../protocol/console-link.ts';
import { can, type Scope } from './api/scopes.ts';

/** The console's pages, each at `#/<page>`; the sessions dashboard is the home page. */
export const PAGES = ['sessions', 'devices', 'groups', 'operators', 'tokens', 'audit', 'account'] as const;
export type Page = (typeof PAGES)[number];

export interface PageInfo {
  page: Page;
  label: string;
  /** The scope that shows the page; the page may still offer less to read-only roles. */
  needs: Scope | null;
}

/** The pages in navigation order. Account sits with the operator's name in the header. */
export const PAGE_INFO: readonly PageInfo[] = [
  { page: 'sessions', label: 'Sessions', needs: 'sessions:read' },
  { page: 'devices', label: 'Devices', needs: 'devices:read' },
  { page: 'groups', label: 'Groups & policies', needs: 'groups:read' },
  { page: 'operators', label: 'Operators', needs: 'operators:read' },
  { page: 'tokens', label: 'API tokens', needs: 'admin' },
  { page: 'audit', label: 'Audit log', needs: 'audit:read' },
  { page: 'account', label: 'Account', needs: null },
];

/** Where the console is: a page and its parameters (for example the audit log's filter). */
export interface Location {
  page: Page;
  params: Record<string, string>;
}

function isPage(value: string): value is Page {
  return (PAGES as readonly string[]).includes(value);
}

/**
 * Reads `#/audit?session=abc` as `{ page: 'audit', params: { session: 'abc' } }`; anything else is
 * the sessions page.
 */
export function parseHash(hash: string): Location {
  const { path, params } = parseConsoleHash(hash);
  return { page: isPage(path) ? path : 'sessions', params };
}

/** The hash of a location; the sessions page without parameters is the bare console. */
export function hashOf(location: Location): string {
  if (location.page === 'sessions' && Object.keys(location.params).length === 0) return '';
  return consoleHash({ path: location.page, params: location.params });
}

/** Whether an operator with these scopes sees the page. */
export function mayOpen(page: Page, scopes: readonly string[]): boolean {
  const needs = PAGE_INFO.find((info) => info.page === page)?.needs;
  return needs === null || needs === undefined || can(scopes, needs);
}
