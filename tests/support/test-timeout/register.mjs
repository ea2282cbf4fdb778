// Preloaded by tests/run.mjs (`--import`): makes `node:test` resolve to node-test.mjs in test files.
import { register } from 'node:module';

register('./resolve-hook.mjs', import.meta.url);
