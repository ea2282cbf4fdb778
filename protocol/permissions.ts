/** The capabilities an end user consents to, one by one. */
export const CAPABILITIES = ['view', 'control', 'chat', 'files', 'shell', 'clipboard', 'guidance'] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** Each capability's name as people read it: in the console's status bar and in the relay's refusals. */
export const CAPABILITY_LABELS: Readonly<Record<Capability, string>> = Object.freeze({
  view: 'View',
  control: 'Control',
  chat: 'Chat',
  files: 'Files',
  shell: 'Shell',
  clipboard: 'Clipboard',
  guidance: 'Guidance',
});

/** What the end user currently allows. The agent enforces it; the relay only reports it. */
export type Permissions = Record<Capability, boolean>;

/** Nothing allowed: the state before consent and after revocation. */
export const NO_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  view: false,
  control: false,
  chat: false,
  files: false,
  shell: false,
  clipboard: false,
  guidance: false,
});

/** Everything allowed: what a user who ticks every box grants. */
export const ALL_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  view: true,
  control: true,
  chat: true,
  files: true,
  shell: true,
  clipboard: true,
  guidance: true,
});

/**
 * The defaults offered to the end user: viewing, chat and guidance (marks drawn over the screen,
 * never input) on; input, files, shell and the clipboard off until the user turns them on (DESIGN.md,
 * "Consent covers each capability separately").
 */
export const DEFAULT_OFFER: Readonly<Permissions> = Object.freeze({
  view: true,
  control: false,
  chat: true,
  files: false,
  shell: false,
  clipboard: false,
  guidance: true,
});

/** Lists the capabilities that are on, in a stable order. */
export function grantedCapabilities(permissions: Permissions): Capability[] {
  return CAPABILITIES.filter((capability) => permissions[capability]);
}
