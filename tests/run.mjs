#!/usr/bin/env node
// Runs every *.test.ts under tests/ with Node's test runner and tsx. Node 20's runner does not
// expand globs or pick up .ts files on its own, so the list is made here.
// A hang fails fast and by name: every test and hook has a default timeout (support/test-timeout/),
// which a test that needs longer raises with its own `{ timeout }`, and the whole run has one too,
// so a stuck run ends well inside CI's 90 minutes instead of eating them.
// Usage: node tests/run.mjs [path-filter ...]
// Environment: LIFELINE_TEST_TIMEOUT_MS (per test, default 120000), LIFELINE_RUN_TIMEOUT_MS (whole
// run, default 4500000 = 75 min).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = find(root)
  .map((path) => relative(process.cwd(), path))
  .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const RUN_TIMEOUT_MS = Number(process.env.LIFELINE_RUN_TIMEOUT_MS ?? 75 * 60_000);
/** Time given to the runner to report and clean up after SIGTERM, before SIGKILL. */
const KILL_GRACE_MS = 10_000;

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    './tests/support/test-timeout/register.mjs',
    '--test',
    '--test-concurrency=1',
    // A test that timed out may leave a timer or socket behind: end the file's process anyway.
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  // A process group of its own, so the whole tree (test files and what they started) can be ended.
  { stdio: 'inherit', detached: true },
);
let timedOut = false;
const runTimer = setTimeout(() => {
  timedOut = true;
  console.error(`\nThe whole test run took longer than ${RUN_TIMEOUT_MS / 60_000} minutes: stopping it.`);
  killGroup('SIGTERM');
  setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
}, RUN_TIMEOUT_MS);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => killGroup(signal));
child.on('exit', (code, signal) => {
  clearTimeout(runTimer);
  if (timedOut) process.exit(1);
  process.exit(code ?? (signal ? 1 : 0));
});

function killGroup(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
