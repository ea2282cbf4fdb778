import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify, stripVTControlCharacters } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { OWNER_FILE, WORK_DIR_PREFIX } from '../../agent/packaging/work-dir.ts';
import { buildAgentExecutable } from '../../build/agent/build-executable.ts';
import { connectWithCode, launchConsoleBrowser, openConsole } from '../console/real-console.ts';
import { assertProblem, expectJson } from '../support/api.ts';
import { freePort, loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { waitFor } from '../support/processes.ts';
import type { PtyProcess } from '../support/pty.ts';
import { startTinyproxy } from '../support/tinyproxy.ts';
import { startWine, type Wine } from '../support/wine.ts';
import { visibleWindows, windowGeometry } from '../support/x-windows.ts';
import { pointerLocation, startXvfb, type Xvfb } from '../support/xvfb.ts';

/**
 * How long the Windows build may take on a 2-core CI machine, in ms: the first on a fresh machine
 * compresses the runtime with xz (minutes); the next take it from the cache.
 */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Wine is slow to start a process on a busy machine: every wait here is generous, in ms. */
const WINE_WAIT_MS = 90_000;
/** The self-deletion helper tries for two minutes (agent/platform/self-delete.ts): wait a little longer. */
const HELPER_WAIT_MS = 150_000;
const CODE = /(\d{3} \d{3} \d{3})/;
const SCREEN = { width: 1024, height: 768 };
/** The shared folder, with a space to exercise quoting in `cmd` and in the self-deletion helper. */
const SHARED = 'C:\\shared folder';
/** Where the user saved the download: a folder with a space, for the self-deletion helper's quoting. */
const DOWNLOADS = 'C:\\Users\\Public\\My Downloads';
const NOTE = 'note.txt';
/** What the Windows launcher unpacks the runtime as, in the work directory (windows-launcher.c). */
const RUNTIME_FILE = 'lifeline-agent.exe';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Average colour of an 8×8 square of the operator's canvas at a screen pixel. */
async function canvasColour(page: Page, x: number, y: number): Promise<[number, number, number]> {
  return page.evaluate(
    ([px, py, width, height]) => {
      const canvas = document.querySelector<HTMLCanvasElement>('canvas[data-testid=screen]');
      if (!canvas || canvas.width === 0) throw new Error('no canvas');
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      const { data } = context.getImageData(
        Math.floor((canvas.width * (px as number)) / (width as number)),
        Math.floor((canvas.height * (py as number)) / (height as number)),
        8,
        8,
      );
      const sum = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]!;
      const n = data.length / 4;
      return [sum[0]! / n, sum[1]! / n, sum[2]! / n] as [number, number, number];
    },
    [x, y, SCREEN.width, SCREEN.height],
  );
}

const near = (actual: readonly number[], expected: readonly number[], tolerance = 40) =>
  actual.every((value, i) => Math.abs(value - expected[i]!) <= tolerance);

const execFileAsync = promisify(execFile);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The Windows executable as a user gets it (downloaded, stamped), run under Wine on Xvfb, driven by an
// operator in headless Chromium and by a script through the API. What Wine cannot show is in the README.
describe('the Windows agent under Wine', { timeout: BUILD_TIMEOUT_MS + 20 * 60_000 }, () => {
  let xvfb: Xvfb;
  let wine: Wine;
  let cp: TestControlPlane;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let agent: PtyProcess;
  let notepad: PtyProcess | undefined;
  let executable: string;
  let workDir: string;
  let sessionId: string;
  let cookie: string;
  let notepadBox: { x: number; y: number; width: number; height: number } | undefined;

  before(
    async () => {
      await buildAgentExecutable('win-x64');
      xvfb = await startXvfb(SCREEN);
      wine = await startWine(xvfb.display);
      cp = await startControlPlane({ listen: true });
      browser = await launchConsoleBrowser();
      ({ page, problems } = await openConsole(browser, cp));
      await page.setViewportSize({ width: 1400, height: 1000 });
      page.setDefaultTimeout(30_000);
      cookie = await loginCookie(cp.app);
    },
    { timeout: BUILD_TIMEOUT_MS + 5 * 60_000 },
  );

  after(async () => {
    await agent?.kill();
    await notepad?.kill();
    await browser?.close();
    await cp?.stop();
    await wine?.stop();
    await xvfb?.stop();
  });

  /** An API call as a script makes it, over a real socket, with the administrator's cookie. */
  function call(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${cp.url}${path}`, {
      method,
      headers: {
        cookie,
        origin: cp.url,
        ...(body === undefined || body instanceof Uint8Array ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { body: body instanceof Uint8Array ? (body as unknown as BodyInit) : JSON.stringify(body) }),
    });
  }

  /** The Windows path of a folder in the Wine user's `%TEMP%`. */
  function windowsTempPath(hostDir: string): string {
    return `C:\\users\\${basename(join(wine.tempDir, '..'))}\\Temp\\${basename(hostDir)}`;
  }

  function workDirs(): string[] {
    if (!existsSync(wine.tempDir)) return [];
    return readdirSync(wine.tempDir).filter((name) => name.startsWith(WORK_DIR_PREFIX));
  }

  /** Downloads the stamped agent into a folder under DOWNLOADS, as a browser would; its Windows path. */
  async function download(folder?: string): Promise<string> {
    const response = await fetch(`${cp.url}/download/agent/win-x64`);
    assert.equal(response.status, 200);
    const path = `${DOWNLOADS}${folder ? `\\${folder}` : ''}\\lifeline-agent-win-x64.exe`;
    mkdirSync(join(wine.hostPath(path), '..'), { recursive: true });
    writeFileSync(wine.hostPath(path), Buffer.from(await response.arrayBuffer()));
    return path;
  }

  it('a downloaded agent starts under Wine, registers, and shows its code in its terminal UI', {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const path = await download();
    executable = wine.hostPath(path);
    mkdirSync(wine.hostPath(SHARED), { recursive: true });
    writeFileSync(join(wine.hostPath(SHARED), NOTE), '');

    agent = wine.start(path, ['--accept', '--files-root', SHARED]);
    const code = await waitFor(
      'the Windows agent to show a code',
      () => CODE.exec(agent.output())?.[1],
      WINE_WAIT_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- agent terminal ---\n${agent.output()}`);
    });
    assert.match(agent.output(), /Read this code to your help-desk operator/);
    const dirs = workDirs();
    assert.equal(dirs.length, 1, `one work directory in %TEMP%: ${dirs.join(', ')}`);
    workDir = join(wine.tempDir, dirs[0]!);
    const owner = JSON.parse(readFileSync(join(workDir, OWNER_FILE), 'utf8')) as { pid: number };
    assert.ok(owner.pid > 0, 'the owner file names a Windows pid');
    assert.deepEqual(
      readdirSync(workDir).sort(),
      ['ffmpeg.exe', 'lifeline-desktop.exe', RUNTIME_FILE, 'node-pty', OWNER_FILE, 'robotjs.node'].sort(),
      "the launcher's runtime and the Windows assets are unpacked under their Windows names, in one directory",
    );
    await connectWithCode(page, cp, code);
    const [row] = (
      await expectJson<{ items: { id: string }[] }>(await call('GET', '/api/sessions?limit=1'), 200)
    ).items;
    sessionId = row!.id;
  });

  it('the operator sees a Wine window (notepad) through the desktop helper, and the agent runs its unpacked ffmpeg.exe', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    await page.waitForFunction(
      () =>
        ((window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats?.framesDecoded ??
          0) > 0,
      undefined,
      { timeout: WINE_WAIT_MS },
    );
    const ffmpeg = wine.processes(/ffmpeg\.exe/i);
    assert.equal(ffmpeg.length, 1, `one ffmpeg.exe runs: ${JSON.stringify(ffmpeg)}`);
    // ffmpeg encodes what the agent feeds it: the helper's pictures of the screen, only when it changed.
    assert.match(ffmpeg[0]!.commandLine, /-f matroska -i pipe:0/);
    const capture = wine.processes(/lifeline-desktop\.exe"? capture/i);
    assert.equal(capture.length, 1, `one capture helper runs: ${JSON.stringify(capture)}`);
    // The whole screen at 30 frames a second, the cursor apart (the console draws it).
    assert.match(capture[0]!.commandLine, /capture 0 0 1024 768 30 cursor$/);
    assert.ok(
      ffmpeg[0]!.commandLine.toLowerCase().includes(`${windowsTempPath(workDir)}\\ffmpeg.exe`.toLowerCase()),
      `ffmpeg.exe runs from the work directory: ${ffmpeg[0]!.commandLine}`,
    );

    notepad = wine.start('notepad', [`${SHARED}\\${NOTE}`]);
    const box = await waitFor(
      'notepad to open its window',
      () => windowGeometry(xvfb.display, `${NOTE} - Notepad`),
      WINE_WAIT_MS,
    );
    notepadBox = box;
    // Notepad's white editing area, well inside the window, against the black Xvfb root beside it.
    const inside = { x: box.x + Math.floor(box.width / 2), y: box.y + Math.floor((box.height * 2) / 3) };
    const colour = await waitFor(
      'notepad on the canvas',
      async () => {
        const c = await canvasColour(page, inside.x, inside.y);
        return near(c, [255, 255, 255]) ? c : undefined;
      },
      WINE_WAIT_MS,
    );
    assert.ok(near(colour, [255, 255, 255]), `the canvas shows notepad's white page: ${colour}`);
    const outside = { x: SCREEN.width - 20, y: SCREEN.height - 20 };
    assert.ok(
      box.x + box.width < outside.x || box.y + box.height < outside.y,
      'the sample beside the window is off the window',
    );
    assert.ok(near(await canvasColour(page, outside.x, outside.y), [0, 0, 0]), 'and the desktop beside it');
  });

  /** Clicks the operator's canvas at a screen pixel; waits for the X pointer there unless a menu holds it. */
  async function clickScreen(x: number, y: number, pointerFollows = true): Promise<void> {
    const canvas = (await page.locator('canvas[data-testid=screen]').boundingBox())!;
    await page.mouse.click(
      canvas.x + (canvas.width * (x + 0.5)) / SCREEN.width,
      canvas.y + (canvas.height * (y + 0.5)) / SCREEN.height,
    );
    // While a Wine menu is open it holds the X pointer: the click lands, the X pointer stays.
    if (!pointerFollows) return;
    let last: { x: number; y: number } | undefined;
    await waitFor(`the X pointer at ${x},${y}`, async () => {
      last = await pointerLocation(xvfb.display);
      return Math.abs(last.x - x) <= 3 && Math.abs(last.y - y) <= 3 ? last : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message} (it is at ${JSON.stringify(last)})`);
    });
  }

  /** Clicks notepad's File menu and waits for it to open; the menu's window. */
  async function openFileMenu(): Promise<{ x: number; y: number; width: number; height: number }> {
    const box = notepadBox!;
    const before = await visibleWindows(xvfb.display);
    // The menu bar's first entry, File, just inside the window's top left corner.
    await clickScreen(box.x + 15, box.y + 10);
    return waitFor(
      'the File menu to open',
      async () => {
        const added = (await visibleWindows(xvfb.display)).filter(
          (w) => !before.some((b) => b.id === w.id) && w.y > box.y && w.width < box.width,
        );
        return added[0];
      },
      WINE_WAIT_MS,
    );
  }

  it('text typed in the console reaches notepad as Unicode characters, and File > Save writes it', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    // Characters go through robotjs's typeString (KEYEVENTF_UNICODE). Enter, Backspace and shortcuts
    // stay keys, which robotjs sends as scan codes without a virtual key: Wine 8 drops those (README).
    const box = notepadBox!;
    await page.click('[data-testid=take-control]');
    await clickScreen(box.x + Math.floor(box.width / 2), box.y + Math.floor(box.height / 2));
    await page.keyboard.type('Hello from Lifeline! (1+1=2)');
    const menu = await openFileMenu();
    // Save is the menu's third entry, about 17 pixels apart in Wine's default theme.
    await clickScreen(menu.x + 30, menu.y + 44, false);
    const note = join(wine.hostPath(SHARED), NOTE);
    let saved = '';
    await waitFor(
      'notepad to save the typed text',
      () => {
        saved = readFileSync(note, 'latin1');
        return saved.length > 0 ? saved : undefined;
      },
      WINE_WAIT_MS,
    );
    assert.equal(saved, 'Hello from Lifeline! (1+1=2)');
  });

  it('clicks from the console reach notepad through robotjs: File opens its menu, Exit closes it', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    const menu = await openFileMenu();
    // Exit is the menu's last entry.
    await clickScreen(menu.x + 30, menu.y + menu.height - 12, false);
    assert.equal(await Promise.race([notepad!.exited, delay(WINE_WAIT_MS).then(() => 'running')]), 0);
    await waitFor(
      "notepad's window to go",
      async () => (await windowGeometry(xvfb.display, `${NOTE} - Notepad`)) === undefined,
      WINE_WAIT_MS,
    );
  });

  it('chat reaches the user in the agent terminal, and their reply reaches the console', {
    timeout: WINE_WAIT_MS,
  }, async () => {
    await page.click('[data-testid=tool-chat]');
    await page.fill('[data-testid=chat-input]', 'Hello from the help desk');
    await page.press('[data-testid=chat-input]', 'Enter');
    await waitFor(
      'the agent to print the message',
      () => agent.output().includes('Hello from the help desk'),
      WINE_WAIT_MS,
    );
    agent.write('m');
    agent.write('Thanks, I see it\r');
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid=chat-message][data-author-kind=user]')].some((line) =>
          line.textContent?.includes('Thanks, I see it'),
        ),
      undefined,
      { timeout: WINE_WAIT_MS },
    );
  });

  it('a script runs a command with cmd in the shared folder through the API', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    // Files and commands start off even with --accept: the user turns them on with their keys.
    agent.write('f');
    await page.waitForSelector('[data-testid=permission-files][data-state=on]');
    agent.write('s');
    await page.waitForSelector('[data-testid=permission-shell][data-state=on]');
    await expectJson(
      await call('POST', `/api/sessions/${sessionId}/connect`, { capabilities: ['files', 'shell'] }),
      200,
    );
    const result = await expectJson<{ exitCode: number; stdout: string; stderr: string }>(
      await call('POST', `/api/sessions/${sessionId}/exec`, {
        command: 'cd & echo %OS% & echo oops 1>&2 & exit /b 3',
        timeoutSeconds: 60,
      }),
      200,
    );
    // cmd echoes the space before `&` too.
    assert.deepEqual(
      result.stdout.split('\r\n').map((line) => line.trimEnd()),
      [SHARED, 'Windows_NT', ''],
    );
    assert.equal(result.stderr.replaceAll('\r\n', '\n').trim(), 'oops');
    assert.equal(result.exitCode, 3);
  });

  it('a file goes up into a new folder and another comes down, each with a verified hash', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    await expectJson(
      await call('POST', `/api/sessions/${sessionId}/files/ops`, { op: 'mkdir', path: 'incoming' }),
      200,
    );
    const up = randomBytes(2 * 1024 * 1024 + 333);
    const stored = await expectJson<{ path: string; size: number; sha256: string }>(
      await call('PUT', `/api/sessions/${sessionId}/files/content?path=incoming/data.bin`, up),
      201,
    );
    assert.deepEqual(stored, { path: 'incoming/data.bin', size: up.byteLength, sha256: sha256(up) });
    const onDisk = readFileSync(join(wine.hostPath(SHARED), 'incoming', 'data.bin'));
    assert.equal(sha256(onDisk), sha256(up), 'the agent wrote the upload under C:\\shared folder\\incoming');

    const downData = randomBytes(3 * 1024 * 1024 + 5);
    writeFileSync(join(wine.hostPath(SHARED), 'report.bin'), downData);
    const response = await call('GET', `/api/sessions/${sessionId}/files/content?path=report.bin`);
    assert.equal(response.status, 200);
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), sha256(downData));

    const listing = await expectJson<{ root: string; entries: { name: string }[] }>(
      await call('GET', `/api/sessions/${sessionId}/files`),
      200,
    );
    assert.equal(listing.root, SHARED, 'the shared folder is reported with its drive letter');
    assert.ok(listing.entries.some((entry) => entry.name === 'incoming'));
  });

  it('Windows paths that leave the shared folder are refused with PATH_OUTSIDE_FOLDER', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    for (const path of [
      'C:\\windows\\win.ini',
      'c:/windows/win.ini',
      '\\\\?\\C:\\windows\\win.ini',
      '\\\\localhost\\C$\\windows\\win.ini',
      '//localhost/C$/windows/win.ini',
      '..\\..\\windows\\win.ini',
      'incoming\\..\\..\\windows\\win.ini',
      'report.bin.',
      'report.bin:stream',
    ]) {
      await assertProblem(
        await call('GET', `/api/sessions/${sessionId}/files/content?path=${encodeURIComponent(path)}`),
        403,
        'PATH_OUTSIDE_FOLDER',
      );
    }
  });

  it('nothing broke the console CSP or threw in the page', () => {
    assert.deepEqual(problems, []);
  });

  it('when the operator ends the session the agent exits, and its executable, work directory and helper are gone', {
    timeout: 2 * WINE_WAIT_MS + HELPER_WAIT_MS,
  }, async () => {
    await page.click('[data-testid=end-session]');
    // The script that fetched files above is still connected: the console asks, naming it.
    assert.match((await page.textContent('[data-testid=end-ask-text]')) ?? '', /also connected/);
    await page.click('[data-testid=end-ask-end]');
    await page.waitForSelector('[data-testid=ended]', { timeout: WINE_WAIT_MS });
    assert.equal(await agent.exited, 0, agent.output());
    assert.match(agent.output(), /deleted itself/);
    assert.deepEqual(wine.processes(/ffmpeg\.exe/i), [], 'ffmpeg.exe stopped with the agent');
    // Windows keeps a running .exe and a loaded add-on: the detached cmd helper removes them. It
    // tries for two minutes; if it has not done it by then, say what is left and what still runs.
    await waitFor(
      'the helper to delete the executable and the work directory',
      () => {
        if (!existsSync(executable) && !existsSync(workDir)) return true;
        const left = [executable, workDir].filter((path) => existsSync(path));
        const inWorkDir = existsSync(workDir) ? readdirSync(workDir, { recursive: true }) : [];
        const running = wine.processes(/./).map((process) => process.commandLine);
        throw new Error(
          `left: ${left.join(', ')} (in the work directory: ${inWorkDir.join(', ')}); running in the prefix: ${running.join(' | ')}`,
        );
      },
      HELPER_WAIT_MS,
    );
    await waitFor('the helper to finish', () => wine.processes(/cmd\.exe/i).length === 0, WINE_WAIT_MS);
    assert.deepEqual(workDirs(), [], 'nothing of the agent is left in %TEMP%');
    assert.deepEqual(readdirSync(wine.hostPath(DOWNLOADS)), [], 'nothing is left where it was saved');
  });

  it('the next agent removes the work directory a killed one left, and one ended with q deletes itself', {
    timeout: 4 * WINE_WAIT_MS,
  }, async () => {
    const killedExe = await download('killed');
    const killed = wine.start(killedExe, []);
    await waitFor('the first agent to show a code', () => CODE.exec(killed.output())?.[1], WINE_WAIT_MS);
    const [stale] = workDirs();
    assert.ok(stale, 'the first agent unpacked into %TEMP%');
    // SIGKILL to Wine's loader is a crash for Windows: nothing cleans up.
    await killed.kill();
    assert.ok(existsSync(join(wine.tempDir, stale)), 'a killed agent leaves its directory');

    const nextExe = await download('next');
    const next = wine.start(nextExe, []);
    await waitFor('the next agent to show a code', () => CODE.exec(next.output())?.[1], WINE_WAIT_MS);
    const owners = () =>
      workDirs().map((dir) => {
        try {
          return `${dir}: ${readdirSync(join(wine.tempDir, dir)).join(',')} ${readFileSync(join(wine.tempDir, dir, OWNER_FILE), 'utf8')}`;
        } catch (error) {
          return `${dir}: ${String(error)}`;
        }
      });
    assert.equal(
      existsSync(join(wine.tempDir, stale)),
      false,
      `the next start saw that the directory's Windows process is gone, and removed it: ${owners().join(' | ')}`,
    );
    const [own] = workDirs();
    assert.ok(own, 'the next agent has its own work directory');
    next.write('q');
    assert.equal(await next.exited, 0, next.output());
    // The detached helper tries for two minutes while Wine lets the exe go: wait as long as for the other.
    await waitFor(
      'the helper to delete the quit agent and its directory',
      () => !existsSync(wine.hostPath(nextExe)) && !existsSync(join(wine.tempDir, own)),
      HELPER_WAIT_MS,
    );
    assert.equal(existsSync(wine.hostPath(killedExe)), true, 'a crashed agent could not delete itself');
  });

  it('a damaged download stops with a message to download it again, and unpacks nothing', {
    timeout: 2 * WINE_WAIT_MS,
  }, async () => {
    const before = workDirs();
    const truncatedPath = await download('truncated');
    const truncated = wine.hostPath(truncatedPath);
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
    // A flipped byte inside the compressed runtime: found only while unpacking, after the folder exists.
    const flippedPath = await download('flipped');
    const flipped = wine.hostPath(flippedPath);
    const bytes = readFileSync(flipped);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(flipped, bytes);
    for (const path of [truncatedPath, flippedPath]) {
      const damaged = wine.start(path, ['--version']);
      assert.equal(await damaged.exited, 127, damaged.output());
      // Wine's console draws each space as a cursor move.
      assert.match(stripVTControlCharacters(damaged.output()), /download\s*the\s*agent\s*again/);
    }
    assert.deepEqual(workDirs(), before, 'nothing was left in %TEMP%');
  });

  it("with a proxy set in Windows' settings and none in the environment, the agent goes through it", {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const proxy = await startTinyproxy({});
    const settings = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
    const reg = (...args: string[]) =>
      execFileAsync('wine', ['reg', 'add', settings, ...args, '/f'], { env: wine.env });
    try {
      await reg('/v', 'ProxyEnable', '/t', 'REG_DWORD', '/d', '1');
      await reg('/v', 'ProxyServer', '/t', 'REG_SZ', '/d', `127.0.0.1:${proxy.port}`);
      const proxiedExe = await download('proxied');
      const proxied = wine.start(proxiedExe, []);
      await waitFor('the agent to show a code', () => CODE.exec(proxied.output())?.[1], WINE_WAIT_MS);
      const server = new URL(cp.url).host;
      assert.ok(
        proxy.connects().includes(server),
        `the agent reached ${server} through the proxy: ${proxy.connects().join(', ')}`,
      );
      proxied.write('q');
      assert.equal(await proxied.exited, 0, proxied.output());
    } finally {
      await reg('/v', 'ProxyEnable', '/t', 'REG_DWORD', '/d', '0');
      await proxy.stop();
    }
  });
  it("with a setup script (AutoConfigURL) in Windows' settings, the agent fetches it, passes over its dead first proxy and goes through the next", {
    timeout: 3 * WINE_WAIT_MS,
  }, async () => {
    const proxy = await startTinyproxy({});
    const dead = await freePort();
    const script = `function FindProxyForURL(url, host) { return "PROXY 127.0.0.1:${dead}; PROXY 127.0.0.1:${proxy.port}"; }`;
    let fetched = 0;
    const pacServer = createServer((_request, response) => {
      fetched++;
      response.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' }).end(script);
    });
    await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
    const pacPort = (pacServer.address() as { port: number }).port;
    const settings = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';
    const reg = (verb: 'add' | 'delete', ...args: string[]) =>
      execFileAsync('wine', ['reg', verb, settings, ...args, '/f'], { env: wine.env });
    try {
      await reg('add', '/v', 'AutoConfigURL', '/t', 'REG_SZ', '/d', `http://127.0.0.1:${pacPort}/proxy.pac`);
      const pacExe = await download('pac');
      const routed = wine.start(pacExe, []);
      await waitFor('the agent to show a code', () => CODE.exec(routed.output())?.[1], WINE_WAIT_MS);
      const server = new URL(cp.url).host;
      assert.ok(fetched >= 1, 'the agent fetched the script');
      assert.ok(
        proxy.connects().includes(server),
        `the agent reached ${server} through the proxy: ${proxy.connects().join(', ')}`,
      );
      // The console may wrap the line: it is read without line breaks.
      assert.ok(
        routed
          .output()
          .replace(/\r?\n/g, '')
          .includes(
            `through the proxy http://127.0.0.1:${proxy.port}, as the proxy auto-configuration script`,
          ),
        routed.output(),
      );
      routed.write('q');
      assert.equal(await routed.exited, 0, routed.output());
    } finally {
      await reg('delete', '/v', 'AutoConfigURL');
      await proxy.stop();
      await new Promise((resolve) => pacServer.close(resolve));
    }
  });
});
