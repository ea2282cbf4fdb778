// What `node:test` resolves to in every test process (see register.mjs): the real module, with a
// default timeout for each test and hook that states none, so a hang fails with the test's name
// instead of stalling the run. Node 20's `--test-timeout` cannot do this: the runner applies it to
// each whole file too. A test or hook inside a `describe` with its own `timeout` keeps inheriting it.
import real from 'node:test';

const DEFAULT_TIMEOUT_MS = Number(process.env.LIFELINE_TEST_TIMEOUT_MS ?? 120_000);
/** How many enclosing `describe`s state a timeout, while their bodies are being declared. */
let explicitDepth = 0;

function hasOptions(value) {
  return value !== null && typeof value === 'object';
}

/** The same arguments, with `{ timeout }` added where neither they nor an enclosing suite set one. */
function withDefaultTimeout(args) {
  if (explicitDepth > 0) return args;
  const options = args.findIndex(hasOptions);
  if (options >= 0) {
    if (args[options].timeout !== undefined) return args;
    const copy = [...args];
    copy[options] = { ...args[options], timeout: DEFAULT_TIMEOUT_MS };
    return copy;
  }
  const fn = args.findIndex((arg) => typeof arg === 'function');
  const copy = [...args];
  copy.splice(fn >= 0 ? fn : copy.length, 0, { timeout: DEFAULT_TIMEOUT_MS });
  return copy;
}

function wrapTest(original) {
  const wrapped = (...args) => original(...withDefaultTimeout(args));
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') {
      wrapped[variant] = (...args) => original[variant](...withDefaultTimeout(args));
    }
  }
  return wrapped;
}

function wrapSuite(original) {
  const declare =
    (declareWith) =>
    (...args) => {
      const explicit = args.some((arg) => hasOptions(arg) && arg.timeout !== undefined);
      if (explicit) explicitDepth++;
      try {
        return declareWith(...args);
      } finally {
        if (explicit) explicitDepth--;
      }
    };
  const wrapped = declare(original);
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') wrapped[variant] = declare(original[variant]);
  }
  return wrapped;
}

function wrapHook(original) {
  return (fn, options) => original(fn, withDefaultTimeout([options ?? {}])[0]);
}

export const test = wrapTest(real.test);
export const it = wrapTest(real.it);
export const describe = wrapSuite(real.describe);
export const suite = wrapSuite(real.suite);
export const before = wrapHook(real.before);
export const after = wrapHook(real.after);
export const beforeEach = wrapHook(real.beforeEach);
export const afterEach = wrapHook(real.afterEach);
export const { skip, todo, only } = test;
export const { mock, run } = real;
export default Object.assign(test, {
  ...{ test, it, describe, suite, before, after, beforeEach, afterEach, mock, run },
});
