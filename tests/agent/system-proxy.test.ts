import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { proxyFor, proxySettings } from '../../agent/node/proxy-settings.ts';
import {
  MACOS_SOURCE,
  parseInternetSettings,
  parseScutilProxy,
  systemProxy,
  WINDOWS_SOURCE,
} from '../../agent/node/system-proxy.ts';

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

/**
 * What `scutil --proxy` prints on macOS with a manual proxy per scheme and exceptions, and the
 * per-interface copy under `__SCOPED__` (altered here, its http proxy off, to show it is not read).
 */
const MACOS_MANUAL = `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
    2 : intranet
  }
  ExcludeSimpleHostnames : 1
  FTPPassive : 1
  HTTPEnable : 1
  HTTPPort : 3128
  HTTPProxy : 10.0.0.1
  HTTPSEnable : 1
  HTTPSPort : 3129
  HTTPSProxy : proxy.corp.example
  ProxyAutoConfigEnable : 0
  __SCOPED__ : <dictionary> {
    en0 : <dictionary> {
      ExceptionsList : <array> {
        0 : *.local
        1 : 169.254/16
        2 : intranet
      }
      ExcludeSimpleHostnames : 1
      FTPPassive : 1
      HTTPEnable : 0
      HTTPPort : 3128
      HTTPProxy : 10.0.0.1
      HTTPSEnable : 1
      HTTPSPort : 3129
      HTTPSProxy : proxy.corp.example
      ProxyAutoConfigEnable : 0
    }
  }
}
`;

/** What `scutil --proxy` prints on a Mac as it comes: nothing enabled. */
const MACOS_NONE = `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
  }
  FTPPassive : 1
  HTTPEnable : 0
  HTTPSEnable : 0
  __SCOPED__ : <dictionary> {
    en0 : <dictionary> {
      ExceptionsList : <array> {
        0 : *.local
        1 : 169.254/16
      }
      FTPPassive : 1
      HTTPEnable : 0
      HTTPSEnable : 0
    }
  }
}
`;

/** "Automatic proxy configuration" on, with the manual proxies still filled in but off. */
const MACOS_PAC = `<dictionary> {
  ExceptionsList : <array> {
    0 : *.local
    1 : 169.254/16
  }
  FTPPassive : 1
  HTTPEnable : 0
  HTTPPort : 3128
  HTTPProxy : 10.0.0.1
  HTTPSEnable : 1
  HTTPSPort : 3129
  HTTPSProxy : proxy.corp.example
  ProxyAutoConfigEnable : 1
  ProxyAutoConfigURLString : http://wpad.corp.example/proxy.pac
}
`;

// The agent picks the reader by process.platform, which no test here can make 'darwin': the real
// macOS path is covered by these parser tests and by systemProxy('darwin') running a recording fake
// scutil first on PATH.
describe("macOS' proxy setting", () => {
  it('manual proxies per scheme, with ExceptionsList and ExcludeSimpleHostnames in NO_PROXY form; the per-interface copy is not read', () => {
    assert.deepEqual(parseScutilProxy(MACOS_MANUAL), {
      source: MACOS_SOURCE,
      https: 'proxy.corp.example:3129',
      http: '10.0.0.1:3128',
      noProxy: ['localhost', '127.0.0.1', '::1', '.local', 'intranet'],
    });
    const httpOnly = MACOS_MANUAL.replace('  HTTPSEnable : 1\n  HTTPSPort', '  HTTPSEnable : 0\n  HTTPSPort');
    assert.equal(parseScutilProxy(httpOnly)?.https, undefined, 'HTTPSEnable 0 turns the https proxy off');
    assert.equal(parseScutilProxy(httpOnly)?.http, '10.0.0.1:3128');
  });

  it('a Mac as it comes (nothing enabled), an empty output, and a proxy without a port are no proxy', () => {
    assert.equal(parseScutilProxy(MACOS_NONE), undefined);
    assert.equal(parseScutilProxy(''), undefined);
    const noPort = MACOS_PAC.replace('ProxyAutoConfigEnable : 1', 'ProxyAutoConfigEnable : 0').replace(
      '  HTTPSPort : 3129\n',
      '',
    );
    assert.equal(parseScutilProxy(noPort), undefined);
  });

  it('a PAC script (ProxyAutoConfigEnable) comes first, the enabled manual proxy after it, named as macOS settings', () => {
    assert.deepEqual(parseScutilProxy(MACOS_PAC), {
      source: MACOS_SOURCE,
      pac: 'http://wpad.corp.example/proxy.pac',
      https: 'proxy.corp.example:3129',
      noProxy: ['.local'],
    });
    const settings = proxySettings(undefined, {}, () => parseScutilProxy(MACOS_PAC));
    assert.deepEqual(
      [settings.pac?.url.href, settings.pac?.source, settings.https?.host, settings.http],
      ['http://wpad.corp.example/proxy.pac', MACOS_SOURCE, 'proxy.corp.example:3129', undefined],
    );
    assert.equal(
      proxyFor(
        new URL('https://help.example.org'),
        proxySettings(undefined, { HTTPS_PROXY: 'http://env:1' }, () => parseScutilProxy(MACOS_PAC)),
      )?.host,
      'env:1',
      'the environment comes before the system',
    );
  });

  it("a server that is not a host name is refused, naming macOS' setting", () => {
    const garbled = MACOS_MANUAL.replace(
      'HTTPSProxy : proxy.corp.example',
      'HTTPSProxy : proxy corp.example',
    );
    assert.throws(
      () => proxySettings(undefined, {}, () => parseScutilProxy(garbled)),
      /^ProxyConfigError: macOS' proxy setting \(System Settings > Network > Proxies\): not a proxy address/,
    );
  });

  it("on macOS the system's proxy is what `scutil --proxy` prints, read through the scutil on PATH", () => {
    const bin = mkdtempSync(join(tmpdir(), 'lifeline-scutil-'));
    const calls = join(bin, 'calls');
    const printed = join(bin, 'printed');
    writeFileSync(printed, MACOS_MANUAL);
    writeFileSync(join(bin, 'scutil'), `#!/bin/sh\necho "$@" >> '${calls}'\ncat '${printed}'\n`, {
      mode: 0o755,
    });
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path}`;
    try {
      assert.equal(systemProxy('darwin')?.https, 'proxy.corp.example:3129');
      writeFileSync(printed, MACOS_NONE);
      assert.equal(systemProxy('darwin'), undefined);
      assert.deepEqual(readFileSync(calls, 'utf8').split('\n'), ['--proxy', '--proxy', '']);
      assert.equal(systemProxy('freebsd'), undefined, 'a platform without a reader reads nothing');
      assert.equal(readFileSync(calls, 'utf8').split('\n').length, 3, 'scutil is asked only on macOS');
    } finally {
      process.env['PATH'] = path;
      rmSync(bin, { recursive: true, force: true });
    }
    assert.equal(systemProxy('darwin'), undefined, 'no scutil (as on Linux) is no proxy');
  });
});
