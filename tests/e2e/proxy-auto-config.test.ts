import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnAgent } from '../support/agent-process.ts';
import { freePort } from '../support/control-plane.ts';
import type { TcpProxy } from '../support/tcp-proxy.ts';
import {
  type BehindProxy,
  codeBehindProxy,
  sessionBehindProxy,
  startBehindProxy,
  type Tinyproxy,
} from '../support/tinyproxy.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';

// Proxy auto-configuration (README "Through a proxy"): a PAC script served by a test HTTP server
// sends the control plane's address to a dead proxy first, then to a real tinyproxy; the control
// plane is reachable only through that proxy (startBehindProxy), so an agent that went around it, or
// stopped at the dead one, would fail.
describe('the agent routed by a proxy auto-configuration script (PAC) to a real tinyproxy', () => {
  let xvfb: Xvfb;
  let site: BehindProxy;
  let proxy: Tinyproxy;
  let door: TcpProxy;
  let doorAddress: string;
  let pacServer: Server;
  let pacUrl: string;
  /** Port of a proxy that is not there: the script's first route. */
  let deadPort: number;
  const scriptsServed: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-e2e-pac-'));

  before(async () => {
    xvfb = await startXvfb({ width: 640, height: 480 });
    site = await startBehindProxy({});
    ({ proxy, door } = site);
    doorAddress = new URL(site.server).host;
    deadPort = await freePort();
    const script = [
      'function FindProxyForURL(url, host) {',
      `  if (host === "127.0.0.1" && shExpMatch(url, "*:${new URL(site.server).port}/*"))`,
      `    return "PROXY 127.0.0.1:${deadPort}; PROXY 127.0.0.1:${proxy.port}; DIRECT";`,
      '  return "DIRECT";',
      '}',
    ].join('\n');
    pacServer = createServer((request, response) => {
      scriptsServed.push(request.url ?? '');
      if (request.url !== '/proxy.pac') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' }).end(script);
    });
    await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
    const address = pacServer.address();
    assert.ok(address && typeof address === 'object');
    pacUrl = `http://127.0.0.1:${address.port}/proxy.pac`;
  });

  after(async () => {
    await new Promise((resolve) => pacServer?.close(resolve));
    await site?.stop();
    await xvfb?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("with --proxy-pac, the dead first route is passed over, the API and the relay go through the script's proxy, the terminal names it, and an operator joins", async () => {
    const served = scriptsServed.length;
    const output = await sessionBehindProxy(site, (code) =>
      spawnAgent({ server: site.server, display: xvfb.display, code, args: ['--proxy-pac', pacUrl] }),
    );
    assert.deepEqual(scriptsServed.slice(served), ['/proxy.pac'], 'the script was fetched once');
    assert.ok(
      output.includes(
        `Reaching ${doorAddress} through the proxy http://127.0.0.1:${proxy.port}, as the proxy auto-configuration script (--proxy-pac) says.`,
      ),
      output,
    );
  });

  it("with GNOME's setting on automatic (read through a real gsettings), the agent fetches the script it names and registers through the proxy", async () => {
    const settings = gnomeSettings(scratch, 'auto');
    gsettings(settings, 'org.gnome.system.proxy', 'autoconfig-url', `'${pacUrl}'`);
    await codeBehindProxy(
      site,
      () => spawnAgent({ server: site.server, display: xvfb.display, env: settings }),
      (agent) =>
        assert.match(
          agent.output(),
          /through the proxy http:\/\/127\.0\.0\.1:\d+, as the proxy auto-configuration script \(GNOME's proxy setting/,
        ),
    );
  });

  it("with GNOME's setting on manual, its https and http host and port name the proxy, and ignore-hosts the servers reached directly", async () => {
    const settings = gnomeSettings(join(scratch, 'manual'), 'manual');
    gsettings(settings, 'org.gnome.system.proxy.http', 'host', "'127.0.0.1'");
    gsettings(settings, 'org.gnome.system.proxy.http', 'port', String(proxy.port));
    await codeBehindProxy(site, () =>
      spawnAgent({ server: site.server, display: xvfb.display, env: settings }),
    );

    gsettings(settings, 'org.gnome.system.proxy', 'ignore-hosts', "['localhost', '127.0.0.1']");
    const refused = door.refused();
    const direct = spawnAgent({ server: site.server, display: xvfb.display, env: settings });
    assert.equal(await direct.exited, 1, direct.output());
    assert.ok(door.refused() > refused, 'the agent went straight to the door, which let it not in');
  });

  it('a --proxy-pac script that cannot be fetched ends the agent at start with a message naming it', async () => {
    const missing = pacUrl.replace('proxy.pac', 'missing.pac');
    const agent = spawnAgent({ server: site.server, display: xvfb.display, args: ['--proxy-pac', missing] });
    assert.equal(await agent.exited, 2, agent.output());
    assert.ok(
      agent
        .output()
        .includes(
          `--proxy-pac: the proxy auto-configuration script at ${missing} cannot be used. Cannot fetch it: the server answered HTTP 404.`,
        ),
      agent.output(),
    );
  });
});

/** The environment of a process whose gsettings keep GNOME's proxy `mode` in a key file of their own. */
function gnomeSettings(dir: string, mode: 'auto' | 'manual'): NodeJS.ProcessEnv {
  const env = { GSETTINGS_BACKEND: 'keyfile', XDG_CONFIG_HOME: join(dir, 'config') };
  gsettings(env, 'org.gnome.system.proxy', 'mode', `'${mode}'`);
  return env;
}

function gsettings(env: NodeJS.ProcessEnv, schema: string, key: string, value: string): void {
  execFileSync('gsettings', ['set', schema, key, value], { env: { ...process.env, ...env } });
}
