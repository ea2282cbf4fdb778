// What `node:test` resolves to in every test process (see register.mjs): the real module, with a
// default timeout for each test and hook that states none, so a hang fails with the test's name
// instead of stalling the run. Node 20's `--test-timeout` cannot do this: the runner applies it to
// each whole file too. A test or hook inside a `describe` with its own `timeout` keeps inheriting it.
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/**
 * Where each test's start and end are written, one JSON line each, synchronously, so they survive an
 * abrupt exit. tests/run.mjs compares them with the verdicts that reached the runner: a test that never
 * ended, or whose verdict was lost between this process and the runner, fails the run by name.
 */
const LEDGER = process.env.LIFELINE_TEST_LEDGER;
const FILE = process.argv[1] ? resolve(process.argv[1]) : '';

function record(event, name) {
  appendFileSync(LEDGER, `${JSON.stringify({ event, file: FILE, name })}\n`);
}

/** The same arguments, with the test's function recording its start and end in the ledger. */
function withLedger(args) {
  const fn = args.findIndex((arg) => typeof arg === 'function');
  if (!LEDGER || fn < 0) return args;
  const body = args[fn];
  const name = typeof args[0] === 'string' ? args[0] : body.name;
  const finish = (result) => {
    if (result && typeof result.then === 'function') {
      return result.finally(() => record('end', name));
    }
    record('end', name);
    return result;
  };
  // node:test reads the arity: a second parameter means a `done` callback.
  const ledgered =
    body.length >= 2
      ? function (t, done) {
          record('start', name);
          return body.call(this, t, (...result) => {
            record('end', name);
            done(...result);
          });
        }
      : function (t) {
          record('start', name);
          let result;
          try {
            result = body.call(this, t);
          } catch (error) {
            record('end', name);
            throw error;
          }
          return finish(result);
        };
  const copy = [...args];
  copy[fn] = ledgered;
  return copy;
}

function wrapTest(original) {
  const wrapped = (...args) => original(...withLedger(withDefaultTimeout(args)));
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') {
      wrapped[variant] = (...args) => original[variant](...withLedger(withDefaultTimeout(args)));
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
