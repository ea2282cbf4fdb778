// Node's `--test-force-exit` calls process.exit() as soon as its reporter closes, while the last
// results may still be on their way from a test file's process to the runner: they are lost and
// the run passes with fewer tests (nodejs/node#64833). Preloaded by tests/run.mjs, this lets the
// event loop turn until standard output has written everything before that exit goes ahead. Any
// other process.exit() is left alone.
const exit = process.exit.bind(process);
/** Event-loop turns to wait at least; and how long at most for standard output to drain, in ms. */
const MIN_TURNS = 5;
const MAX_WAIT_MS = 30_000;

/** Whether process.exit() was called by the runner's own code, not by a test or what it runs. */
function calledByTestRunner() {
  // Lines: the error, this function, the process.exit replacement, and then its caller.
  const caller = (new Error().stack ?? '').split('\n')[3] ?? '';
  return caller.includes('node:internal/test_runner/');
}

process.exit = (code) => {
  if (!calledByTestRunner()) return exit(code);
  let turns = 0;
  const deadline = Date.now() + MAX_WAIT_MS;
  const waitForStdout = () => {
    turns++;
    const pending = process.stdout.writableLength + process.stderr.writableLength;
    if (Date.now() > deadline || (turns >= MIN_TURNS && pending === 0)) exit(code);
    else setTimeout(waitForStdout, 1);
  };
  setTimeout(waitForStdout, 1);
};
