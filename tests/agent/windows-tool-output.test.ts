import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScQuery, parseWmicServices } from '../../agent/device/elevated-services.ts';
import { parseTasklist, parseWmicProcesses } from '../../agent/device/elevated-tools.ts';
import { parseRegQuery } from '../../agent/device/registry-editor.ts';
import { decodeToolOutput } from '../../agent/device/windows-commands.ts';

// What Windows' own tools print, as captured on Windows 10 (tasklist, sc) and under Wine 8 (wmic,
// reg): the Wine tests run the wmic and reg paths for real; these pin the parsers of the others.

const TASKLIST = [
  '"System Idle Process","0","Services","0","8 K","Unknown","NT AUTHORITY\\SYSTEM","12:01:33","N/A"',
  '"notepad.exe","4312","Console","1","14,204 K","Running","DESK-7\\anna","0:00:00","Untitled - Notepad"',
  '"svchost.exe","1088","Services","0","1.234.567 K","Unknown","N/A","0:00:02","N/A"',
  '',
].join('\r\n');

const SC_QUERYEX = `
SERVICE_NAME: Spooler
DISPLAY_NAME: Print Spooler
        TYPE               : 110  WIN32_OWN_PROCESS  (interactive)
        STATE              : 4  RUNNING
                                (STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)
        WIN32_EXIT_CODE    : 0  (0x0)
        PID                : 2412
        FLAGS              :

SERVICE_NAME: wuauserv
DISPLAY_NAME: Windows Update
        TYPE               : 20  WIN32_SHARE_PROCESS
        STATE              : 1  STOPPED
        WIN32_EXIT_CODE    : 0  (0x0)
`;

describe("Windows tools' output, parsed", () => {
  it('wmic output in UTF-16 with a byte-order mark is decoded, CRLF made LF', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('Name  \r\r\nx.exe \r\n', 'utf16le'),
    ]);
    assert.equal(decodeToolOutput(bytes), 'Name  \nx.exe \n');
    assert.equal(decodeToolOutput(Buffer.from('plain\r\n')), 'plain\n');
  });

  it("tasklist's CSV gives names with spaces, pids, users and memory in any thousands separator", () => {
    assert.deepEqual(parseTasklist(decodeToolOutput(Buffer.from(TASKLIST))), [
      { pid: 0, name: 'System Idle Process', user: 'NT AUTHORITY\\SYSTEM', cpu: 0, memoryKiB: 8 },
      { pid: 4312, name: 'notepad.exe', user: 'DESK-7\\anna', cpu: 0, memoryKiB: 14204 },
      { pid: 1088, name: 'svchost.exe', user: '', cpu: 0, memoryKiB: 1234567 },
    ]);
  });

  it("wmic's table is read by its header's columns, so a name may hold spaces", () => {
    const text =
      'Name                 ProcessId  WorkingSetSize\nSystem Idle Process  0          8192\nnote pad.exe         4312       2048000\n';
    assert.deepEqual(parseWmicProcesses(text), [
      { pid: 0, name: 'System Idle Process', user: '', cpu: 0, memoryKiB: 8 },
      { pid: 4312, name: 'note pad.exe', user: '', cpu: 0, memoryKiB: 2000 },
    ]);
    const services = 'DisplayName    Name     StartMode  State\nPrint Spooler  Spooler  Manual     Stopped\n';
    assert.deepEqual(parseWmicServices(services), [
      { unit: 'Spooler', load: 'manual', active: 'inactive', sub: 'stopped', description: 'Print Spooler' },
    ]);
  });

  it("sc queryex's blocks give each service's name, display name and state", () => {
    assert.deepEqual(parseScQuery(SC_QUERYEX), [
      { unit: 'Spooler', load: '', active: 'active', sub: 'running', description: 'Print Spooler' },
      { unit: 'wuauserv', load: '', active: 'inactive', sub: 'stopped', description: 'Windows Update' },
    ]);
  });

  it("reg query's values (names with spaces, the default, empty data) and direct subkeys are read", () => {
    const text = [
      '',
      'HKEY_CURRENT_USER\\Software\\Demo',
      '    (Default)    REG_SZ    (value not set)',
      '    my  name    REG_SZ    two    spaces',
      '    n    REG_DWORD    0x2a',
      '    empty    REG_SZ    ',
      '    bare    REG_BINARY',
      '',
      'HKEY_CURRENT_USER\\Software\\Demo\\Sub Key',
      'HKEY_CURRENT_USER\\Software\\Demo\\Other',
      '',
    ].join('\n');
    assert.deepEqual(parseRegQuery(text, 'HKCU\\Software\\Demo'), {
      subkeys: ['Sub Key', 'Other'],
      values: [
        { name: '', type: 'REG_SZ', data: '(value not set)' },
        { name: 'my  name', type: 'REG_SZ', data: 'two    spaces' },
        { name: 'n', type: 'REG_DWORD', data: '0x2a' },
        { name: 'empty', type: 'REG_SZ', data: '' },
        { name: 'bare', type: 'REG_BINARY', data: '' },
      ],
    });
  });
});
