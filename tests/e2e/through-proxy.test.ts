import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadPty } from '../../agent/platform/pty-module.ts';
import { spawnAgent } from '../support/agent-process.ts';
import { waitFor } from '../support/processes.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import {
  type BehindProxy,
  codeBehindProxy,
  sessionBehindProxy,
  startBehindProxy,
  type Tinyproxy,
} from '../support/tinyproxy.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

const PROXY_USER = 'helpdesk';
const PROXY_PASSWORD = 'pr0xy-s3cret';

// The control plane is reachable only through the proxy (startBehindProxy): an agent that tried to go
// around it would fail, and the door counts it.
describe('the agent behind an HTTP proxy (real tinyproxy with Basic authentication)', () => {
  let xvfb: Xvfb;
  let site: BehindProxy;
  let proxy: Tinyproxy;
  let door: TcpProxy;
  let doorAddress: string;

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    site = await startBehindProxy({ user: PROXY_USER, password: PROXY_PASSWORD });
    ({ proxy, door } = site);
    doorAddress = new URL(site.server).host;
  });

  after(async () => {
    await site?.stop();
    await xvfb?.stop();
  });

  it('with --proxy, the API calls and the relay go through the proxy and a session works end to end', async () => {
    const output = await sessionBehindProxy(site, (code) =>
      spawnAgent({
        server: `http://${doorAddress}`,
        display: xvfb.display,
        code,
        args: ['--proxy', proxy.url()],
      }),
    );
    assert.doesNotMatch(output, new RegExp(PROXY_PASSWORD), 'the proxy password is never shown');
  });

  it('with HTTP_PROXY in the environment, the agent registers and shows its code through the proxy', async () => {
    await codeBehindProxy(site, () =>
      spawnAgent({
        server: `http://${doorAddress}`,
        display: xvfb.display,
        env: { HTTP_PROXY: proxy.url(), NO_PROXY: 'example.org' },
      }),
    );
  });

  it('a wrong proxy password ends the agent with a clear message that does not show the password', async () => {
    const wrong = 'not-the-password';
    const agent = spawnAgent({
      server: `http://${doorAddress}`,
      display: xvfb.display,
      args: ['--proxy', proxy.url(PROXY_USER, wrong)],
    });
    assert.equal(await agent.exited, 1, agent.output());
    assert.match(
      agent.output(),
      /The proxy http:\/\/helpdesk@127\.0\.0\.1:\d+ refused the user name and password/,
    );
    assert.doesNotMatch(agent.output(), new RegExp(wrong));
  });

  it('NO_PROXY names a server reached directly, around the proxy', async () => {
    const refusedBefore = door.refused();
    const agent = spawnAgent({
      server: `http://${doorAddress}`,
      display: xvfb.display,
      env: { HTTP_PROXY: proxy.url(), NO_PROXY: '127.0.0.1' },
    });
    assert.equal(await agent.exited, 1, agent.output());
    assert.ok(door.refused() > refusedBefore, 'the agent went straight to the door, which let it not in');
  });

  it('when the server cannot be reached and no proxy is known, the agent in a terminal asks for one, its user and its password (not shown), and goes on through it', async () => {
    const refusedBefore = door.refused();
    let output = '';
    // A real terminal (a pty): the question is asked only of someone at one.
    const terminal = loadPty().spawn(
      process.execPath,
      ['--import', 'tsx', 'agent/main.ts', '--server', site.server, '--accept'],
      { cwd: process.cwd(), env: { ...process.env, DISPLAY: xvfb.display }, cols: 120, rows: 40 },
    );
    terminal.onData((data) => {
      output += data;
    });
    try {
      await waitFor('the question for a proxy', () => output.includes('Proxy:'));
      assert.ok(door.refused() > refusedBefore, 'the agent first tried the server directly');
      assert.match(output, /Cannot reach/);
      terminal.write(`http://127.0.0.1:${proxy.port}\r`);
      await waitFor('the user name question', () => output.includes('Proxy user name'));
      terminal.write(`${PROXY_USER}\r`);
      await waitFor('the password question', () => output.includes('Proxy password'));
      terminal.write(`${PROXY_PASSWORD}\r`);
      await waitFor('the code, through the proxy', () => /\d{3} \d{3} \d{3}/.test(output));
      assert.ok(!output.includes(PROXY_PASSWORD), 'the proxy password was not shown as it was typed');
    } finally {
      terminal.kill('SIGKILL');
    }
  });
});
