import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONSOLE_FILES, type ConsoleAssets } from '../../build/console/bundle.ts';

/** The built console: its page and the assets it loads. */
export interface ConsoleBundle extends ConsoleAssets {
  html: string;
}

let bundle: ConsoleBundle | undefined;

/**
 * The console tests/run.mjs built once for this run (in `LIFELINE_CONSOLE_DIR`, the folder the tests'
 * control planes serve), read once per test file.
 * @example
 * const plane = await FakeControlPlane.start(consoleBundle());
 */
export function consoleBundle(): ConsoleBundle {
  const dir = process.env['LIFELINE_CONSOLE_DIR'];
  if (!dir) {
    throw new Error(
      'No LIFELINE_CONSOLE_DIR: run the tests with node tests/run.mjs, which builds the console.',
    );
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  bundle ??= {
    html: read(CONSOLE_FILES.html),
    js: read(CONSOLE_FILES.js),
    css: read(CONSOLE_FILES.css),
    worker: read(CONSOLE_FILES.worker),
    videoWorker: read(CONSOLE_FILES.videoWorker),
  };
  return bundle;
}
