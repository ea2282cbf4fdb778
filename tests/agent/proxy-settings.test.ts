import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeProxy, ProxyConfigError, proxyFor, proxySettings } from '../../agent/node/proxy-settings.ts';

const via = (env: NodeJS.ProcessEnv, target: string, flag?: string) =>
  proxyFor(new URL(target), proxySettings(flag, env))?.host;

describe('which proxy the agent uses', () => {
  it('an https server goes through HTTPS_PROXY, an http one through HTTP_PROXY; lower case wins', () => {
    const env = {
      HTTPS_PROXY: 'http://upper:3128',
      https_proxy: 'http://lower:3128',
      HTTP_PROXY: 'plain:8080',
    };
    assert.equal(via(env, 'https://help.example.org'), 'lower:3128');
    assert.equal(via(env, 'wss://help.example.org/ws'), 'lower:3128');
    assert.equal(via(env, 'http://help.example.org'), 'plain:8080', 'a bare host:port means http');
    assert.equal(via({}, 'https://help.example.org'), undefined, 'no variable: direct');
  });

  it('NO_PROXY sends a server direct by host, by domain suffix, by host and port, or all with *', () => {
    const proxied = (noProxy: string, target: string) =>
      via({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy }, target) !== undefined;
    assert.equal(proxied('help.example.org', 'https://help.example.org'), false);
    assert.equal(proxied('example.org', 'https://help.example.org'), false, 'a domain covers its hosts');
    assert.equal(proxied('.example.org', 'https://help.example.org'), false);
    assert.equal(proxied('example.org', 'https://notexample.org'), true, 'only whole labels match');
    assert.equal(proxied('help.example.org:8443', 'https://help.example.org'), true, 'another port');
    assert.equal(proxied('help.example.org:443', 'https://help.example.org'), false);
    assert.equal(proxied('localhost, 10.0.0.5', 'https://10.0.0.5:8080'), false);
    assert.equal(proxied('*', 'https://anything.example'), false);
  });

  it('--proxy is used for every server, whatever the variables say', () => {
    const env = { HTTPS_PROXY: 'http://env:3128', NO_PROXY: '*' };
    assert.equal(via(env, 'https://help.example.org', 'http://flag:3128'), 'flag:3128');
    assert.equal(via(env, 'http://help.example.org', 'http://flag:3128'), 'flag:3128');
  });

  it('a proxy that is not http:// is refused with ProxyConfigError saying what to write', () => {
    assert.throws(
      () => proxySettings('socks5://proxy:1080', {}),
      (error) => error instanceof ProxyConfigError && /--proxy: only http:\/\/ proxies/.test(error.message),
    );
    assert.throws(
      () => proxySettings(undefined, { HTTPS_PROXY: 'http://' }),
      (error) => error instanceof ProxyConfigError && /HTTPS_PROXY/.test(error.message),
    );
  });

  it('a proxy is shown with its user name and never its password', () => {
    const proxy = proxySettings('http://help%20desk:p%40ss@proxy.example:3128', {}).explicit!;
    assert.equal(describeProxy(proxy), 'http://help desk@proxy.example:3128');
  });
});
