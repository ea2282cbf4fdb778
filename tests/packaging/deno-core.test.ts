import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYNTHETIC_ACCESS_UNIT } from '../../agent/deno/synthetic-screen.ts';
import { connectOperator, type RelayClient } from '../control-plane/relay-client.ts';
import { startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');

/** The JSON lines the Deno agent printed so far. */
function events(agent: Spawned): { event: string; [key: string]: unknown }[] {
  return agent
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('the agent core under Deno', () => {
  let cp: TestControlPlane;
  let denoDir: string;
  let agent: Spawned;
  let operator: RelayClient | undefined;

  before(async () => {
    cp = await startControlPlane({ listen: true });
    denoDir = mkdtempSync(join(tmpdir(), 'lifeline-deno-'));
  });
  after(async () => {
    await operator?.close();
    await agent?.kill();
    await cp?.stop();
    rmSync(denoDir, { recursive: true, force: true });
  });

  it('registers, is welcomed by the relay, asks consent, streams video and applies input', async () => {
    // --cached-only: nothing may be downloaded; zod resolves from node_modules through package.json.
    agent = spawnCollecting(
      DENO,
      [
        'run',
        '--cached-only',
        '--no-prompt',
        '--allow-net=127.0.0.1',
        join(ROOT, 'agent', 'deno', 'synthetic-agent.ts'),
        cp.url,
      ],
      { ...process.env, DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    );
    const code = await waitFor(
      'the Deno agent to register',
      () => events(agent).find((e) => e.event === 'code')?.['code'] as string | undefined,
      30_000,
    );
    await waitFor('the relay to welcome the Deno agent', () =>
      events(agent).some((e) => e.event === 'welcome'),
    );

    const joined = await connectOperator(cp, code);
    operator = joined.operator;
    await waitFor('the Deno agent to be asked for consent', () =>
      events(agent).some((e) => e.event === 'consent'),
    );
    const consent = await operator.next('consent');
    assert.equal(consent.accepted, true);
    await operator.until(() => operator!.videos().length > 0, 'a video frame from the Deno agent');
    const [video] = operator.videos();
    assert.ok(video?.frame?.kind === 'video');
    assert.deepEqual([...video.frame.data], [...SYNTHETIC_ACCESS_UNIT]);
    assert.equal(video.frame.keyframe, true);

    operator.send({ type: 'input', event: { kind: 'move', x: 0.5, y: 0.5 } });
    await waitFor('the Deno agent to apply input', () => events(agent).some((e) => e.event === 'input'));

    operator.send({ type: 'end', reason: 'operator-ended' });
    assert.equal(await agent.exited, 0, agent.output());
    assert.deepEqual(
      events(agent).find((e) => e.event === 'ended'),
      { event: 'ended', reason: 'operator-ended' },
    );
  });
});
