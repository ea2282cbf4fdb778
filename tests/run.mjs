#!/usr/bin/env node
// Runs every *.test.ts under tests/ with Node's test runner and tsx. Node 20's runner does not
// expand globs or pick up .ts files on its own, so the list is made here.
// A hang fails fast and by name: every test and hook has a default timeout (support/test-timeout/),
// which a test that needs longer raises with its own `{ timeout }`, and the whole run has one too,
// so a stuck run ends well inside CI's 90 minutes instead of eating them.
// No result is lost without a failure: every test process writes each test's start and end to a
// ledger (support/test-timeout/node-test.mjs), and the run fails, naming them, when a test never
// ended or its verdict never reached the runner (support/test-timeout/exit-after-report.mjs says why
// that could happen and stops it).
// The console is bundled once, before the tests, into a folder the tests' control planes serve.
// Usage: node tests/run.mjs [path-filter | file ...]
// Environment: LIFELINE_TEST_TIMEOUT_MS (per test, default 120000), LIFELINE_RUN_TIMEOUT_MS (whole
// run, default 4500000 = 75 min).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** A filter naming an existing file runs that file, wherever it is (the runner's own tests use this). */
const named = filters.filter((filter) => filter.endsWith('.mjs') && existsSync(filter));
const files = find(root)
  .map((path) => relative(process.cwd(), path))
  .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
  .concat(named)
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const RUN_TIMEOUT_MS = Number(process.env.LIFELINE_RUN_TIMEOUT_MS ?? 75 * 60_000);
/** Time given to the runner to report and clean up after SIGTERM, before SIGKILL. */
const KILL_GRACE_MS = 10_000;

const support = new URL('./support/test-timeout/', import.meta.url);
const books = mkdtempSync(join(tmpdir(), 'lifeline-test-ledger-'));
const ledger = join(books, 'ledger.jsonl');
const verdicts = join(books, 'verdicts.jsonl');

// The console every test serves (the tests' control planes read LIFELINE_CONSOLE_DIR), built once
// for the run from the working tree, as `npm run build:console` builds it for `npm start`.
const consoleDir = join(books, 'console');
const consoleBuild = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('../build.ts', import.meta.url).pathname,
    '--console-only',
    '--console-dir',
    consoleDir,
  ],
  { encoding: 'utf8' },
);
if (consoleBuild.status !== 0) {
  console.error(`Could not build the console for the tests:\n${consoleBuild.stderr}${consoleBuild.stdout}`);
  rmSync(books, { recursive: true, force: true });
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    new URL('register.mjs', support).href,
    '--import',
    new URL('exit-after-report.mjs', support).href,
    '--test',
    '--test-concurrency=1',
    // A test that timed out may leave a timer or socket behind: end the file's process anyway.
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('verdicts.mjs', support).href}`,
    '--test-reporter-destination=stderr',
    ...files,
  ],
  // A process group of its own, so the whole tree (test files and what they started) can be ended.
  {
    stdio: 'inherit',
    detached: true,
    env: {
      ...process.env,
      LIFELINE_TEST_LEDGER: ledger,
      LIFELINE_TEST_VERDICTS: verdicts,
      LIFELINE_CONSOLE_DIR: consoleDir,
    },
  },
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
  const lost = timedOut ? [] : unaccounted();
  rmSync(books, { recursive: true, force: true });
  if (lost.length > 0) {
    console.error(`\n✖ ${lost.length} test(s) ran without a verdict reaching the runner:`);
    for (const line of lost) console.error(`  ${line}`);
  }
  if (timedOut || lost.length > 0) process.exit(1);
  process.exit(code ?? (signal ? 1 : 0));
});

function readLines(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/**
 * Tests the ledger saw start that have no verdict in the runner: either their process ended in the
 * middle of them, or their verdict was lost on its way. A test that timed out never ends in the
 * ledger but has its verdict (a failure), so it is not counted here. Verdicts are matched by name:
 * the runner records where `test()` was called, which is the timeout wrapper.
 */
function unaccounted() {
  const entries = readLines(ledger);
  const reported = new Map();
  for (const { name } of readLines(verdicts)) reported.set(name, (reported.get(name) ?? 0) + 1);
  const ends = new Map();
  const inFile = (entry) => `${relative(process.cwd(), entry.file)}: ${entry.name}`;
  for (const entry of entries) {
    if (entry.event === 'end') ends.set(inFile(entry), (ends.get(inFile(entry)) ?? 0) + 1);
  }
  const lost = [];
  for (const entry of entries.filter((each) => each.event === 'start')) {
    const left = reported.get(entry.name) ?? 0;
    if (left > 0) {
      reported.set(entry.name, left - 1);
      continue;
    }
    const ended = ends.get(inFile(entry)) ?? 0;
    if (ended > 0) ends.set(inFile(entry), ended - 1);
    lost.push(
      `${inFile(entry)} — ${ended > 0 ? 'its verdict never reached the runner' : 'started and never ended (did its process exit?)'}`,
    );
  }
  return lost;
}
