/**
 * A fixture's part, which its `before` hook starts: reading it earlier throws, saying so.
 * @example get cp() { return started(cp, 'the control plane'); }
 */
export function started<T>(part: T | undefined, name: string): T {
  if (part === undefined) throw new Error(`${name} starts in the before hook: use it inside a test.`);
  return part;
}
