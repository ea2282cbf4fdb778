import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyFor, proxySettings } from '../../agent/node/proxy-settings.ts';
import { parseInternetSettings, WINDOWS_SOURCE } from '../../agent/node/system-proxy.ts';

/** What `reg query "HKCU\…\Internet Settings"` printed under Wine, with a proxy per scheme set. */
const PER_SCHEME = [
  '',
  'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings',
  '    ProxyEnable    REG_DWORD    0x1',
  '    ProxyOverride    REG_SZ    <local>;*.corp.example;10.*;intranet',
  '    ProxyServer    REG_SZ    http=10.0.0.1:3128;https=10.0.0.2:3129',
  '    User Agent    REG_SZ    Mozilla/4.0 (compatible; MSIE 8.0; Win32)',
  '',
  'HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\ZoneMap',
  '',
].join('\r\n');

// The real agent reading the real registry through the real reg.exe is tested under Wine
// (tests/windows/agent-under-wine.test.ts); this covers the forms Windows writes.
describe("Windows' proxy setting", () => {
  it('a proxy per scheme, with its exceptions in NO_PROXY form', () => {
    assert.deepEqual(parseInternetSettings(PER_SCHEME), {
      source: WINDOWS_SOURCE,
      http: '10.0.0.1:3128',
      https: '10.0.0.2:3129',
      noProxy: ['localhost', '127.0.0.1', '::1', '.corp.example', 'intranet'],
    });
  });

  it('one proxy for every scheme; none while ProxyEnable is 0 or the server is empty', () => {
    const one = PER_SCHEME.replace('http=10.0.0.1:3128;https=10.0.0.2:3129', 'proxy.corp.example:8080');
    assert.deepEqual(parseInternetSettings(one), {
      source: WINDOWS_SOURCE,
      http: 'proxy.corp.example:8080',
      https: 'proxy.corp.example:8080',
      noProxy: ['localhost', '127.0.0.1', '::1', '.corp.example', 'intranet'],
    });
    assert.equal(parseInternetSettings(one.replace('0x1', '0x0')), undefined);
    assert.equal(
      parseInternetSettings(PER_SCHEME.replace(/ProxyServer.*/, 'ProxyServer    REG_SZ    ')),
      undefined,
    );
  });

  it('a setup script (AutoConfigURL) is read whether or not the manual proxy is on, and comes before it', () => {
    const script = `${PER_SCHEME.replace(
      '    ProxyEnable',
      '    AutoConfigURL    REG_SZ    http://wpad.corp.example/proxy.pac\r\n    ProxyEnable',
    )}`;
    const both = proxySettings(undefined, {}, () => parseInternetSettings(script));
    assert.equal(both.pac?.url.href, 'http://wpad.corp.example/proxy.pac');
    assert.equal(both.pac?.source, WINDOWS_SOURCE);
    assert.equal(
      both.https?.host,
      '10.0.0.2:3129',
      'the manual proxy stays for when the script cannot be used',
    );
    assert.deepEqual(parseInternetSettings(script.replace('0x1', '0x0')), {
      source: WINDOWS_SOURCE,
      pac: 'http://wpad.corp.example/proxy.pac',
      noProxy: [],
    });
    // --proxy beats a script, and --proxy-pac beats the environment.
    const flagged = proxySettings('http://flag-proxy:1', {}, () => parseInternetSettings(script));
    assert.equal(flagged.pac, undefined);
    const pacFlag = proxySettings(undefined, { HTTPS_PROXY: 'http://env:1' }, undefined, 'file:///etc/p.pac');
    assert.deepEqual([pacFlag.pac?.source, pacFlag.https], ['--proxy-pac', undefined]);
    assert.throws(
      () => proxySettings(undefined, {}, undefined, 'ftp://example.org/p.pac'),
      /^ProxyConfigError: --proxy-pac: not the address of a proxy auto-configuration script/,
    );
  });

  it('is used only when neither --proxy nor the environment names a proxy', () => {
    const system = () => parseInternetSettings(PER_SCHEME);
    const server = new URL('https://help.example.org');
    assert.equal(proxyFor(server, proxySettings(undefined, {}, system))?.host, '10.0.0.2:3129');
    assert.equal(proxyFor(new URL('http://intranet'), proxySettings(undefined, {}, system)), undefined);
    assert.equal(
      proxyFor(server, proxySettings(undefined, { HTTPS_PROXY: 'http://env-proxy:3128' }, system))?.host,
      'env-proxy:3128',
    );
    assert.equal(proxyFor(server, proxySettings('http://flag-proxy:1', {}, system))?.host, 'flag-proxy:1');
  });

  it("a setting that is not an http proxy is refused, naming Windows' setting", () => {
    const socks = PER_SCHEME.replace('http=10.0.0.1:3128;https=10.0.0.2:3129', 'socks5://10.0.0.3:1080');
    assert.throws(
      () => proxySettings(undefined, {}, () => parseInternetSettings(socks)),
      /Windows' proxy setting.*only http:\/\/ proxies/,
    );
  });
});
