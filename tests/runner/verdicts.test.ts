import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const RUN = new URL('../run.mjs', import.meta.url).pathname;
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** Runs tests/run.mjs on the given files as CI runs it, and returns its exit code and output. */
function runner(files: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // A runner inside a test file: without these, Node would take it for a recursive run.
    const {
      NODE_TEST_CONTEXT: _context,
      LIFELINE_TEST_LEDGER: _ledger,
      LIFELINE_TEST_VERDICTS: _verdicts,
      ...env
    } = process.env;
    const child = spawn(process.execPath, [RUN, ...files], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the test runner accounts for every test that ran', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-runner-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('fails, by name, when a test process exits in the middle of a test', async () => {
    const { code, output } = await runner([join(FIXTURES, 'exits-mid-test.mjs')]);
    assert.equal(code, 1, output);
    assert.match(output, /exits-mid-test\.mjs: leaves in the middle — started and never ended/);
    // Node reports the file as passed, and the verdict of the test before it never arrives either.
    assert.match(output, /exits-mid-test\.mjs: runs to its end — its verdict never reached the runner/);
  });

  it('fails, by name, when a test ended but its verdict never reached the runner', async () => {
    const { code, output } = await runner([join(FIXTURES, 'phantom-verdict.mjs')]);
    assert.equal(code, 1, output);
    assert.match(output, /a test whose verdict was lost — its verdict never reached the runner/);
  });

  it('a test that times out fails by its timeout, once, and is not counted as lost', async () => {
    const { code, output } = await runner([join(FIXTURES, 'times-out.mjs')]);
    assert.equal(code, 1, output);
    assert.match(output, /test timed out after 500ms/);
    assert.doesNotMatch(output, /without a verdict reaching the runner/);
  });

  it('reports every verdict of files that end with fast tests, which --test-force-exit used to cut short', async () => {
    // The shape that lost results (nodejs/node#64833): many quick tests with long names at the end
    // of a file whose process holds a timer, ended by --test-force-exit.
    const files = [1, 2, 3, 4].map((n) => {
      const path = join(scratch, `fast-${n}.mjs`);
      const tests = Array.from({ length: 150 }, (_, i) => `it('t${i} ${'x'.repeat(2000)}', () => {});`);
      writeFileSync(
        path,
        [`import { it } from 'node:test';`, 'setInterval(() => {}, 1000);', ...tests].join('\n'),
      );
      return path;
    });
    const { code, output } = await runner(files);
    // The output without the 2,000-character test names: the summary and what the runner says.
    const said = output
      .split('\n')
      .map((line) => (line.length > 200 ? `${line.slice(0, 60)}…` : line))
      .filter((line) => !/^\s*✔ t\d+ x/.test(line))
      .join('\n');
    assert.equal(code, 0, said);
    assert.match(output, /ℹ tests 600\n/);
    assert.match(output, /ℹ pass 600\n/);
  });
});
