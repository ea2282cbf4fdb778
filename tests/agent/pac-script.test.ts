import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacScript, PacScriptError, pacRoutes } from '../../agent/node/pac-script.ts';

// The proxy auto-configuration script's sandbox (agent/node/pac-script.ts). The script fetched and
// used by the real agent through a real tinyproxy: tests/e2e/proxy-auto-config.test.ts.
const CORPORATE_PAC = `
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".intranet.example")) return "DIRECT";
  if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
  if (shExpMatch(url, "http://legacy.*")) return "PROXY old-proxy:8080";
  if (url.indexOf("/secret") >= 0) return "PROXY leaked:1";
  return "PROXY proxy-a.example:3128; SOCKS5 socks.example:1080; PROXY proxy-b.example:3128; DIRECT";
}`;

describe('a proxy auto-configuration script', () => {
  const pac = new PacScript(CORPORATE_PAC);

  it('gives the routes to try in order: http proxies and DIRECT, socks left out', () => {
    assert.deepEqual(
      pac.routesFor(new URL('wss://help.example.org/ws')).map((route) => route?.host ?? 'DIRECT'),
      ['proxy-a.example:3128', 'proxy-b.example:3128', 'DIRECT'],
    );
  });

  it('routes by the standard helpers: plain names, domains, networks and globs', () => {
    assert.deepEqual(pac.routesFor(new URL('https://tools/')), [null]);
    assert.deepEqual(pac.routesFor(new URL('https://cp.intranet.example/')), [null]);
    assert.deepEqual(pac.routesFor(new URL('http://10.1.2.3/')), [null]);
    assert.equal(pac.routesFor(new URL('http://legacy.example/x'))[0]?.host, 'old-proxy:8080');
  });

  it('sees only the origin of an https URL, never its path', () => {
    assert.equal(pac.routesFor(new URL('https://help.example.org/secret'))[0]?.host, 'proxy-a.example:3128');
    assert.equal(pac.routesFor(new URL('http://help.example.org/secret'))[0]?.host, 'leaked:1');
  });

  it('an answer with nothing usable is direct', () => {
    assert.deepEqual(pacRoutes(''), [null]);
    assert.deepEqual(pacRoutes('SOCKS s:1080'), [null]);
    assert.deepEqual(pacRoutes('PROXY :3128'), [null]);
  });

  it('a script that loops, evaluates strings, reaches for Node, or has no FindProxyForURL is refused', () => {
    const looping = new PacScript('function FindProxyForURL() { for (;;) {} }');
    assert.throws(() => looping.routesFor(new URL('https://a.example/')), PacScriptError);
    const evaluating = new PacScript('function FindProxyForURL() { return eval("\\"DIRECT\\""); }');
    assert.throws(() => evaluating.routesFor(new URL('https://a.example/')), PacScriptError);
    const reaching = new PacScript('function FindProxyForURL() { return String(require("fs")); }');
    assert.throws(() => reaching.routesFor(new URL('https://a.example/')), PacScriptError);
    assert.throws(() => new PacScript('var x = 1;'), /has no FindProxyForURL/);
    assert.throws(() => new PacScript('while (true) {}'), /does not load/);
  });
});
