// A reporter for tests/run.mjs, beside `spec`: one JSON line per verdict that reached the runner,
// which run.mjs compares with what the test processes wrote in their ledger (see node-test.mjs).
// Written synchronously to LIFELINE_TEST_VERDICTS rather than through a reporter destination: the
// runner's forced exit does not wait for a destination stream to flush, and lines would be lost.
import { appendFileSync } from 'node:fs';

const VERDICTS = process.env.LIFELINE_TEST_VERDICTS;

export default async function* verdicts(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, details } = event.data;
    if (details?.type === 'suite' || !VERDICTS) continue;
    const verdict = event.type === 'test:pass' ? 'pass' : 'fail';
    appendFileSync(VERDICTS, `${JSON.stringify({ file, name, verdict })}\n`);
  }
  yield '';
}
