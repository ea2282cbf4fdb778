import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import {
  DEFAULT_POLICY,
  type ProcessInfo,
  type RegistryValue,
  type ServiceInfo,
} from '../../protocol/index.ts';
import { launchConsoleBrowser, openConsole, signIn } from '../console/real-console.ts';
import { devicesApi, ELEVATED_POLICY } from '../devices/device-support.ts';
import {
  apiClient,
  assertProblem,
  type Credentials,
  createOperator,
  expectJson,
  whoAmI,
} from '../support/api.ts';
import type { TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import type { PtyProcess } from '../support/pty.ts';
import type { Wine } from '../support/wine.ts';
import {
  RESIDENT_START_TIMEOUT_MS,
  type ResidentUnderWine,
  startResidentUnderWine,
  WINE_WAIT_MS,
} from './resident-under-wine.ts';

const run = promisify(execFile);

/** Where the resident agent is "installed" on Wine's C: drive (the service's `--root`). */
const ROOT = 'C:\\lifeline';
/** The registry key every registry test writes under (the service's HKCU). */
const KEY = 'HKCU\\Software\\Lifeline Test';

type Registry = { key: string; subkeys: string[]; values: RegistryValue[] };

// The real Windows agent's resident service under Wine, as the service manager would run it
// (`lifeline-agent service`, enrolled with a registration key), driven through the API: the task
// manager, the services and the registry editor act on Wine's own processes, services and registry.
describe('elevated tools of a Windows device, under Wine', {
  timeout: RESIDENT_START_TIMEOUT_MS + 20 * 60_000,
}, () => {
  let at: ResidentUnderWine;
  let wine: Wine;
  let cp: TestControlPlane;
  let notepad: PtyProcess | undefined;
  let browser: Browser | undefined;
  let admin: Credentials;
  let deviceId: string;
  let groupId: string;
  const api = () => apiClient(cp);

  /** `wine reg query …` (or another reg command) on the prefix: status and output. */
  async function reg(...args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await run('wine', ['reg', ...args], {
        env: wine.env,
        timeout: WINE_WAIT_MS,
      });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, output: failed.stdout + failed.stderr };
    }
  }

  /** The state word `sc query NAME` prints in Wine (RUNNING, STOPPED). */
  async function scState(name: string): Promise<string | undefined> {
    const { stdout } = await run('wine', ['sc', 'query', name], { env: wine.env, timeout: WINE_WAIT_MS });
    return /STATE\s*:\s*\d+\s+(\S+)/.exec(stdout)?.[1];
  }

  const change = (body: unknown, credentials: Credentials = admin) =>
    api().post(`/api/devices/${deviceId}/registry`, credentials, body);
  const read = (key: string, credentials: Credentials = admin) =>
    api().get(`/api/devices/${deviceId}/registry?key=${encodeURIComponent(key)}`, credentials);

  before(
    async () => {
      // The program and its data in one folder, as the service's command line may name it.
      at = await startResidentUnderWine({ policy: ELEVATED_POLICY, programDir: ROOT, dataDir: ROOT });
      ({ wine, cp, admin, deviceId, groupId } = at);
    },
    { timeout: RESIDENT_START_TIMEOUT_MS },
  );

  after(async () => {
    await browser?.close();
    await notepad?.kill();
    await at?.stop();
  });

  it('the task manager lists a real notepad with its pid and memory, and End task ends it (audited)', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    notepad = wine.start('notepad', []);
    const found = await waitFor(
      'notepad in the task manager',
      async () => {
        const list = await expectJson<{ processes: ProcessInfo[] }>(
          await api().get(`/api/devices/${deviceId}/processes?name=NOTEPAD`, admin),
          200,
        );
        return list.processes.find((p) => p.name.toLowerCase() === 'notepad.exe');
      },
      WINE_WAIT_MS,
      1_000,
    );
    // Wine reports every working set as 0; Windows has the real figure.
    assert.ok(found.pid > 0 && Number.isInteger(found.memoryKiB), JSON.stringify(found));

    const ended = await expectJson<{ pid: number; name: string }>(
      await api().post(`/api/devices/${deviceId}/processes/${found.pid}/end`, admin),
      200,
    );
    assert.deepEqual({ pid: ended.pid, name: ended.name }, { pid: found.pid, name: 'notepad.exe' });
    // The notice that names it (a message box of lifeline-service.exe) is not notepad.
    const notepads = () => wine.processes(/notepad/i).filter((p) => !/lifeline-service/i.test(p.commandLine));
    await waitFor('notepad gone from Wine', () => notepads().length === 0, WINE_WAIT_MS, 500);
    await assertProblem(
      await api().post(`/api/devices/${deviceId}/processes/${found.pid}/end`, admin),
      404,
      'NOT_FOUND',
    );
    const uses = (await devicesApi(cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'end-process' && d['pid'] === found.pid && d['result'] === 'ok'),
      JSON.stringify(uses),
    );
  });

  it("services: the list shows Wine's Spooler with its state; start and stop change it in Wine's service manager", {
    timeout: 6 * WINE_WAIT_MS,
  }, async () => {
    const listed = await expectJson<{ services: ServiceInfo[]; total: number }>(
      await api().get(`/api/devices/${deviceId}/services`, admin),
      200,
    );
    const spooler = listed.services.find((s) => s.unit === 'Spooler');
    assert.ok(spooler, JSON.stringify(listed.services.map((s) => s.unit)));
    assert.equal(spooler.description, 'Print Spooler');
    assert.equal(spooler.sub, (await scState('Spooler'))?.toLowerCase());

    const act = (name: string, action: string) =>
      api().post(`/api/devices/${deviceId}/services/${encodeURIComponent(name)}/${action}`, admin);
    assert.deepEqual(await expectJson(await act('Spooler', 'start'), 200), {
      unit: 'Spooler',
      action: 'start',
    });
    assert.equal(await scState('Spooler'), 'RUNNING');
    const running = await expectJson<{ services: ServiceInfo[] }>(
      await api().get(`/api/devices/${deviceId}/services`, admin),
      200,
    );
    assert.equal(running.services.find((s) => s.unit === 'Spooler')?.active, 'active');
    assert.deepEqual(await expectJson(await act('Spooler', 'stop'), 200), {
      unit: 'Spooler',
      action: 'stop',
    });
    assert.equal(await scState('Spooler'), 'STOPPED');
    await assertProblem(await act('NoSuchService', 'start'), 404, 'NOT_FOUND');
    await assertProblem(await act('-x', 'start'), 400, 'VALIDATION_FAILED');

    const uses = (await devicesApi(cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'service-action' && d['unit'] === 'Spooler' && d['action'] === 'stop'),
      JSON.stringify(uses),
    );
  });

  it('the registry editor sets each type of value, as reg query in Wine then shows, and deletes values and keys', {
    timeout: 6 * WINE_WAIT_MS,
  }, async () => {
    const set = async (name: string, value: unknown) =>
      assert.deepEqual(
        await expectJson(await change({ op: 'set-value', key: `${KEY}\\Sub`, name, value }), 200),
        { op: 'set-value', key: `${KEY}\\Sub`, name },
      );
    await set('greeting', { type: 'REG_SZ', data: 'hello "world" & /f' });
    await set('path', { type: 'REG_EXPAND_SZ', data: '%SystemRoot%\\x' });
    await set('lines', { type: 'REG_MULTI_SZ', data: ['one', 'two | three'] });
    await set('count', { type: 'REG_DWORD', data: '4294967295' });
    await set('big', { type: 'REG_QWORD', data: '18446744073709551615' });
    await set('', { type: 'REG_SZ', data: 'default' });

    const query = await reg('query', `${KEY}\\Sub`);
    assert.equal(query.code, 0, query.output);
    assert.match(query.output, /greeting {4}REG_SZ {4}hello "world" & \/f/);
    assert.match(query.output, /path {4}REG_EXPAND_SZ {4}%SystemRoot%\\x/);
    assert.match(query.output, /lines {4}REG_MULTI_SZ {4}one\\0two \| three/);
    assert.match(query.output, /count {4}REG_DWORD {4}0xffffffff/);
    assert.match(query.output, /\(Default\) {4}REG_SZ {4}default/);
    // Wine's reg query prints a QWORD as "(null)": its export has the bytes.
    const exported = wine.hostPath('C:\\exported.reg');
    assert.equal((await reg('export', `${KEY}\\Sub`, 'C:\\exported.reg', '/y')).code, 0);
    assert.match(readFileSync(exported, 'utf16le'), /"big"=hex\(b\):ff,ff,ff,ff,ff,ff,ff,ff/);

    const parent = await expectJson<Registry>(await read(KEY), 200);
    assert.deepEqual(parent.subkeys, ['Sub']);
    const key = await expectJson<Registry>(await read(`${KEY}\\Sub`), 200);
    assert.deepEqual(
      key.values.find((v) => v.name === 'count'),
      { name: 'count', type: 'REG_DWORD', data: '0xffffffff' },
    );
    assert.ok(
      key.values.some((v) => v.name === '' && v.data === 'default'),
      JSON.stringify(key.values),
    );

    await expectJson(await change({ op: 'delete-value', key: `${KEY}\\Sub`, name: 'greeting' }), 200);
    assert.doesNotMatch((await reg('query', `${KEY}\\Sub`)).output, /greeting/);
    await assertProblem(
      await change({ op: 'delete-value', key: `${KEY}\\Sub`, name: 'greeting' }),
      404,
      'NOT_FOUND',
    );
    await expectJson(await change({ op: 'create-key', key: `${KEY}\\Empty` }), 200);
    assert.equal((await reg('query', `${KEY}\\Empty`)).code, 0);
    await expectJson(await change({ op: 'delete-key', key: `${KEY}\\Sub` }), 200);
    assert.notEqual((await reg('query', `${KEY}\\Sub`)).code, 0, 'the key is gone');
    await assertProblem(await read(`${KEY}\\Sub`), 404, 'NOT_FOUND');

    const uses = (await devicesApi(cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    const changes = uses.filter((d) => d['tool'] === 'registry-change');
    assert.ok(
      changes.some((d) => d['op'] === 'set-value' && d['key'] === `${KEY}\\Sub` && d['name'] === 'greeting'),
      JSON.stringify(changes),
    );
    assert.doesNotMatch(JSON.stringify(uses), /hello|4294967295|default"|two \| three/, 'no data audited');
  });

  it('registry changes are refused by role, by scope, by policy and for bad keys; nothing is written', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const { organisationId } = await whoAmI(api(), admin);
    const technician = await createOperator(api(), admin, {
      username: 'tech-w',
      role: 'technician',
      organisationId,
    });
    const auditor = await createOperator(api(), admin, {
      username: 'audit-w',
      role: 'auditor',
      organisationId,
    });
    const body = { op: 'set-value', key: `${KEY}\\Refused`, name: 'x', value: { type: 'REG_SZ', data: 'y' } };
    const refused = await assertProblem(
      await change(body, { cookie: technician.cookie }),
      403,
      'POLICY_FORBIDS',
    );
    assert.match(refused.detail ?? '', /technician/);
    await assertProblem(await read(KEY, { cookie: technician.cookie }), 403, 'POLICY_FORBIDS');
    await assertProblem(await change(body, { cookie: auditor.cookie }), 403, 'FORBIDDEN');
    for (const key of ['HKEY_LOCAL_MACHINE\\Software', 'HKLM\\\\Software', 'HKLM\\Soft\nware', 'C:\\x', '/f'])
      await assertProblem(await change({ ...body, key }), 400, 'VALIDATION_FAILED');
    await assertProblem(
      await change({ ...body, value: { type: 'REG_DWORD', data: '4294967296' } }),
      400,
      'VALIDATION_FAILED',
    );
    await assertProblem(await change({ op: 'delete-key', key: 'HKLM\\Software' }), 400, 'VALIDATION_FAILED');
    await expectJson(await api().put(`/api/groups/${groupId}/policy`, admin, DEFAULT_POLICY), 200);
    try {
      const off = await assertProblem(await change(body), 403, 'POLICY_FORBIDS');
      assert.match(off.detail ?? '', /does not allow elevated tools/);
    } finally {
      await expectJson(await api().put(`/api/groups/${groupId}/policy`, admin, ELEVATED_POLICY), 200);
    }
    assert.notEqual((await reg('query', `${KEY}\\Refused`)).code, 0, 'nothing was written');
  });

  it("the console's Registry panel browses to a key, and a value saved in its edit dialog is in Wine's registry", {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    assert.equal((await reg('add', `${KEY}\\Console`, '/f')).code, 0);
    browser = await launchConsoleBrowser();
    const { page, problems } = await openConsole(browser, cp);
    page.setDefaultTimeout(WINE_WAIT_MS);
    await signIn(page, cp);
    await page.click('[data-testid=nav-devices]');
    const row = page.locator(`[data-testid=device-row][data-device-id="${deviceId}"]`);
    await row.locator('[data-testid=device-registry-open]').click();
    await page.selectOption('[data-testid=registry-root]', 'HKCU');
    for (const subkey of ['Software', 'Lifeline Test', 'Console'])
      await page.click(`[data-testid=registry-subkey][data-subkey="${subkey}"]`);
    await page.locator('[data-testid=registry]').waitFor();
    await page.click('[data-testid=registry-new-value]');
    await page.fill('[data-testid=registry-edit-name]', 'from console');
    await page.selectOption('[data-testid=registry-edit-type]', 'REG_DWORD');
    await page.fill('[data-testid=registry-edit-data]', '42');
    await page.click('[data-testid=registry-edit-save]');
    await page.locator('[data-testid=registry-value-row][data-name="from console"]').waitFor();
    assert.match((await reg('query', `${KEY}\\Console`)).output, /from console {4}REG_DWORD {4}0x2a/);

    const value = page.locator('[data-testid=registry-value-row][data-name="from console"]');
    await value.locator('[data-testid=registry-value-delete]').click();
    await value.locator('[data-testid=registry-value-delete]').click();
    await value.waitFor({ state: 'detached' });
    assert.doesNotMatch((await reg('query', `${KEY}\\Console`)).output, /from console/);
    assert.deepEqual(problems, []);
  });
  it("the user at Wine's console is named in the API, is told of elevated tools by a window on their display (told: true), and HKCU is their hive", {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    // Under Wine the console session's user is the Linux user running Wine.
    const user = userInfo().username;
    const device = await devicesApi(cp, admin).get(deviceId);
    assert.equal(device.reported.consoleUser, user);

    await expectJson(await api().get(`/api/devices/${deviceId}/services`, admin), 200);
    const uses = (await devicesApi(cp, admin).audit('device.elevated-tool')).map((e) => e.details ?? {});
    assert.ok(
      uses.some((d) => d['tool'] === 'services' && d['told'] === true),
      JSON.stringify(uses),
    );
    // The notice: WTSSendMessageW is a stub in Wine, so the service host's message box in the session.
    const windows = await waitFor(
      'a Lifeline notice on the display',
      async () => {
        const { stdout } = await run('xdotool', ['search', '--name', '^Lifeline$'], {
          env: { ...process.env, DISPLAY: at.xvfb.display },
        }).catch(() => ({ stdout: '' }));
        return stdout.trim() || undefined;
      },
      WINE_WAIT_MS,
      1_000,
    );
    assert.ok(windows);

    assert.equal(
      (await reg('add', 'HKCU\\Software\\Lifeline User', '/v', 'mine', '/d', 'theirs', '/f')).code,
      0,
    );
    const hive = await expectJson<Registry & { currentUser?: string }>(
      await read('HKCU\\Software\\Lifeline User'),
      200,
    );
    assert.equal(hive.currentUser, user);
    assert.deepEqual(hive.values, [{ name: 'mine', type: 'REG_SZ', data: 'theirs' }]);
  });
});
