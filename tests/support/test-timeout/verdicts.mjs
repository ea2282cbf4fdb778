// A reporter for tests/run.mjs, beside `spec`: one JSON line per verdict that reached the runner,
// which run.mjs compares with what the test processes wrote in their ledger (see node-test.mjs).
export default async function* verdicts(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, name, details } = event.data;
    if (details?.type === 'suite') continue;
    yield `${JSON.stringify({ file, name, verdict: event.type === 'test:pass' ? 'pass' : 'fail' })}\n`;
  }
}
