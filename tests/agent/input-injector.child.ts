// Runs the input injector with real robotjs in its own process, for input-injector.test.ts. robotjs
// keeps one X connection for the life of the process and Xlib exits the process when that server
// goes away, so the test process itself never loads robotjs: it stops this child before its Xvfb.
//
// Protocol: one JSON request per stdin line, { op: 'apply', event } | { op: 'releaseAll' } |
// { op: 'state' }; one JSON reply per stdout line with the injector's stats and robotjs's screen size.
import { createInterface } from 'node:readline';
import { createInputInjector } from '../../agent/input/input-injector.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import type { InputEvent } from '../../protocol/input.ts';

type Request = { op: 'apply'; event: InputEvent } | { op: 'releaseAll' } | { op: 'state' };

const platform = createLinuxPlatform();
const errors: string[] = [];
const injector = createInputInjector({
  screen: () => platform.screenSize(),
  platform,
  onError: (error) => errors.push(String(error)),
});

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request;
  if (request.op === 'apply') injector.apply(request.event);
  else if (request.op === 'releaseAll') injector.releaseAll();
  process.stdout.write(
    `${JSON.stringify({ stats: injector.stats, screen: platform.screenSize(), errors })}\n`,
  );
}
