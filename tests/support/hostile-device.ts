/** What a hostile or broken device might say about itself: terminal escapes, a bell, bidi tricks. */
export const HOSTILE_DEVICE = {
  name: 'lifeline-agent',
  version: '1.0.0',
  hostname: 'desk-42\u202Egnp.exe',
  user: 'bob\u001b[2J\u0007\u200F',
  os: 'Linux\u2066\u0085\u009b31m',
};
