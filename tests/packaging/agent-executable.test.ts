import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { base64url } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { digestPrefix, readStamp } from '../../agent/packaging/own-stamp.ts';
import type { AssetEntry } from '../../agent/packaging/sea-assets.ts';
import { verifyStamp } from '../../agent/packaging/stamp-verify.ts';
import { OWNER_FILE, WORK_DIR_PREFIX } from '../../agent/packaging/work-dir.ts';
import { buildAgentExecutable, SEA_SENTINEL_FUSE } from '../../build/agent/build-executable.ts';
import { PACKED_FOOTER_BYTES, PACKED_MAGIC } from '../../build/agent/launcher.ts';
import { findPeResource, PE_MACHINE_X64, RT_RCDATA, readPeHeaders } from '../../build/agent/pe-file.ts';
import { PTY_PACKAGE_DIR, ptyPackageFiles } from '../../build/agent/pty-files.ts';
import { X264_ENCODER_FILE } from '../../build/agent/x264-encoder.ts';
import { encodeStampTrailer } from '../../protocol/agent-stamp.ts';
import { channelId, encodeShellData, ShellStream } from '../../protocol/index.ts';
import { RelayClient } from '../control-plane/relay-client.ts';
import { launchChromium } from '../support/browser.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  loginCookie,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { childrenOf, isAlive, type Spawned, spawnCollecting, waitFor } from '../support/processes.ts';
import { startXvfb, type Xvfb } from '../support/xvfb.ts';
import { findSeaAsset } from './sea-blob.ts';

/** The first 4 bytes of every SEA blob (Node's `kMagic`, little-endian). */
const SEA_BLOB_MAGIC = 0x0143da20;
/** The first 4 bytes of a zstd frame (little-endian). */
const ZSTD_MAGIC = 0xfd2fb528;
/** The first 6 bytes of an xz stream. */
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
/** Issue 13's goal for an agent download, gzip as served, in bytes (40 MB). */
const DOWNLOAD_GOAL_BYTES = 40_000_000;
/** How long a build may take on a 2-core CI machine, in ms. */
const BUILD_TIMEOUT_MS = 5 * 60_000;
/**
 * The Windows build, in ms: the first on a fresh machine compresses the runtime with xz (minutes);
 * the next take it from the cache.
 */
const WINDOWS_BUILD_TIMEOUT_MS = 20 * 60_000;
const CODE = /(\d{3} \d{3} \d{3})/;

// One build per platform per test run: the suites below share it.
describe('the Linux agent executable', { timeout: BUILD_TIMEOUT_MS + 5 * 60_000 }, () => {
  let xvfb: Xvfb;
  let cp: TestControlPlane;
  let browser: Browser | undefined;
  let scratch: string;
  /** TMPDIR of the agents under test, so their work directories can be watched. */
  let agentTmp: string;
  let unstamped: string;
  const agents: Spawned[] = [];
  let copies = 0;

  before(
    async () => {
      const manifest = await buildAgentExecutable('linux-x64');
      unstamped = join(new URL('../../dist/agent/', import.meta.url).pathname, manifest.fileName);
      scratch = mkdtempSync(join(tmpdir(), 'lifeline-packaging-'));
      agentTmp = join(scratch, 'tmp');
      mkdirSync(agentTmp);
      xvfb = await startXvfb({ width: 1024, height: 640 });
      cp = await startControlPlane({ listen: true });
    },
    { timeout: BUILD_TIMEOUT_MS },
  );

  after(async () => {
    for (const agent of agents) await agent.kill();
    await browser?.close();
    await cp?.stop();
    await xvfb?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Downloads the executable from the control plane into a fresh folder, as a browser would. */
  async function download(query = ''): Promise<string> {
    const response = await fetch(`${cp.url}/download/agent/linux-x64${query}`);
    assert.equal(response.status, 200);
    const path = join(scratch, `download-${++copies}`, 'lifeline-agent-linux-x64');
    mkdirSync(join(path, '..'));
    writeFileSync(path, Buffer.from(await response.arrayBuffer()), { mode: 0o755 });
    return path;
  }

  /** An operator-first session over the API and the agent downloaded from its link, as the console shows it. */
  async function sessionDownload() {
    const cookie = await loginCookie(cp.app);
    const headers = { cookie, origin: cp.url, 'content-type': 'application/json' };
    const created = await cp.app.request('/api/sessions', { method: 'POST', headers, body: '{}' });
    assert.equal(created.status, 201, await created.clone().text());
    const { session } = (await created.json()) as { session: { id: string } };
    // The session goes into the stamp.
    return { session, headers, path: await download(`?session=${session.id}`) };
  }

  /** Joins the prepared session as its operator once the agent is there, and waits for the welcome. */
  async function joinPrepared(sessionId: string, headers: Record<string, string>) {
    const grant = await waitFor('the operator to be let in', async () => {
      const joined = await cp.app.request(`/api/sessions/${sessionId}/join`, { method: 'POST', headers });
      return joined.status === 200
        ? ((await joined.json()) as { relay: { url: string; token: string } })
        : undefined;
    });
    const operator = await RelayClient.connect(grant.relay.url, {
      hello: { role: 'operator', token: grant.relay.token },
    });
    return { operator, welcome: await operator.next('welcome') };
  }

  function copyOfUnstamped(): string {
    const path = join(scratch, `copy-${++copies}`, 'lifeline-agent-linux-x64');
    mkdirSync(join(path, '..'));
    copyFileSync(unstamped, path);
    chmodSync(path, 0o755);
    return path;
  }

  function run(path: string, args: string[] = []): Spawned {
    const agent = spawnCollecting(path, args, { ...process.env, DISPLAY: xvfb.display, TMPDIR: agentTmp });
    agents.push(agent);
    return agent;
  }

  function workDirs(): string[] {
    return readdirSync(agentTmp)
      .filter((name) => name.startsWith(WORK_DIR_PREFIX))
      .map((name) => join(agentTmp, name));
  }

  function workDirOf(pid: number): string | undefined {
    return workDirs().find((dir) => {
      try {
        return JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')).pid === pid;
      } catch {
        return false;
      }
    });
  }

  it('prints its version and help, and leaves nothing unpacked for that', () => {
    for (const flag of ['--version', '--help']) {
      const result = spawnSync(unstamped, [flag], {
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: agentTmp },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, flag === '--version' ? /^\d+\.\d+\.\d+\n$/ : /--keep\s+Do not delete/);
    }
    assert.deepEqual(workDirs(), []);
  });

  it('is a small launcher followed by the runtime compressed with zstd, and a footer that finds it', () => {
    const bytes = readFileSync(unstamped);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), '\x7fELF');
    const footer = bytes.subarray(bytes.length - PACKED_FOOTER_BYTES);
    assert.equal(footer.subarray(0, PACKED_MAGIC.length).toString('latin1'), PACKED_MAGIC);
    const offset = Number(footer.readBigUInt64LE(PACKED_MAGIC.length));
    const length = Number(footer.readBigUInt64LE(PACKED_MAGIC.length + 8));
    assert.equal(offset + length + PACKED_FOOTER_BYTES, bytes.length);
    assert.equal(bytes.readUInt32LE(offset), ZSTD_MAGIC);
    assert.ok(!bytes.includes(`${SEA_SENTINEL_FUSE}:1`), 'the runtime is not stored uncompressed');
  });

  it('a damaged download stops with a message to download it again, and unpacks nothing', () => {
    const path = copyOfUnstamped();
    truncateSync(path, 2_000_000);
    const result = spawnSync(path, ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: agentTmp },
    });
    assert.equal(result.status, 127);
    assert.match(result.stderr, /download the agent again/);
    assert.deepEqual(readdirSync(agentTmp), []);
  });

  it('a downloaded agent runs a session from the browser, then its file, its directory and its children are gone', async () => {
    const path = await download();
    const agent = run(path, ['--accept']);
    const code = await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
    const pid = agent.child.pid!;
    const workDir = await waitFor('the agent to unpack into its work dir', () => workDirOf(pid));
    // The launcher ran the runtime from a memory file, in the same process: nothing else on disk.
    assert.equal(readlinkSync(`/proc/${pid}/exe`), '/memfd:lifeline-agent (deleted)');
    assert.deepEqual(readdirSync(agentTmp), [basename(workDir)]);
    assert.deepEqual(readdirSync(join(path, '..')), [basename(path)]);
    assert.deepEqual(
      readdirSync(workDir).sort(),
      [X264_ENCODER_FILE, OWNER_FILE, PTY_PACKAGE_DIR, 'robotjs.node'].sort(),
      'the Linux agent carries its own encoder, and no ffmpeg',
    );
    const unpackedPty = readdirSync(join(workDir, PTY_PACKAGE_DIR), { recursive: true, encoding: 'utf8' });
    for (const file of ptyPackageFiles('linux-x64'))
      assert.ok(unpackedPty.includes(file.path), `node-pty's ${file.path} is unpacked`);

    browser = await launchChromium();
    const page: Page = await browser.newPage();
    await page.goto(cp.url);
    await page.fill('input[name=username]', ADMIN_USERNAME);
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('button[type=submit]');
    await page.fill('[data-testid=code-input]', code);
    await page.click('[data-testid=connect]');
    await page.waitForFunction(
      () =>
        ((window as unknown as { lifelineStats?: { framesDecoded: number } }).lifelineStats?.framesDecoded ??
          0) > 0,
      undefined,
      { timeout: 30_000 },
    );
    const children = childrenOf(pid);
    const encoder = children.find((child) => child.command.startsWith(X264_ENCODER_FILE));
    assert.ok(encoder, `the agent runs its unpacked encoder (children: ${JSON.stringify(children)})`);
    assert.equal(
      readFileSync(`/proc/${encoder.pid}/cmdline`, 'utf8').split('\0')[0],
      join(workDir, X264_ENCODER_FILE),
    );

    await page.click('[data-testid=end-session]');
    await page.waitForSelector('[data-testid=ended]', { timeout: 15_000 });
    assert.equal(await agent.exited, 0, agent.output());
    assert.match(agent.output(), /deleted itself/);
    assert.equal(existsSync(path), false, 'the executable is gone');
    assert.equal(existsSync(workDir), false, 'the unpacked directory is gone');
    for (const child of children) assert.equal(isAlive(child.pid), false, `${child.command} is not running`);
  });

  it('ended by the user with q before anyone connected, the agent deletes itself too', async () => {
    const path = await download();
    const agent = run(path);
    await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
    const workDir = await waitFor('the work dir', () => workDirOf(agent.child.pid!));
    agent.child.stdin?.write('q');
    assert.equal(await agent.exited, 0, agent.output());
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(workDir), false);
  });

  it('with --keep the executable stays and only the unpacked directory goes', async () => {
    const path = await download();
    const agent = run(path, ['--keep']);
    await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
    const workDir = await waitFor('the work dir', () => workDirOf(agent.child.pid!));
    agent.child.kill('SIGINT');
    assert.equal(await agent.exited, 0, agent.output());
    assert.equal(existsSync(path), true);
    assert.equal(existsSync(workDir), false);
  });

  it('the directory a killed agent left behind is removed by the next start', async () => {
    const killed = run(await download());
    await waitFor('the agent to show a code', () => CODE.exec(killed.output())?.[1], 30_000);
    const stale = await waitFor('the work dir', () => workDirOf(killed.child.pid!));
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.equal(existsSync(stale), true, 'SIGKILL leaves the directory');

    const next = run(await download());
    await waitFor('the next agent to show a code', () => CODE.exec(next.output())?.[1], 30_000);
    assert.equal(existsSync(stale), false, 'the next start removed it');
    next.child.stdin?.write('q');
    await next.exited;
  });

  it('a code that expires unused ends the session, and the agent deletes itself', async () => {
    // The shortest code a policy allows lives one minute.
    const shortLived = await startControlPlane({ listen: true, env: { LIFELINE_CODE_TTL_MINUTES: '1' } });
    try {
      const path = copyOfUnstamped();
      const agent = run(path, ['--server', shortLived.url]);
      await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
      await waitFor('the code to expire', () => agent.child.exitCode !== null, 90_000);
      assert.equal(await agent.exited, 0, agent.output());
      assert.match(agent.output(), /Session ended: code-expired/);
      assert.equal(existsSync(path), false);
    } finally {
      await shortLived.stop();
    }
  });

  it('a lost connection to the control plane ends the session, and the agent deletes itself', async () => {
    const logs: string[] = [];
    const doomed = await startControlPlane({ listen: true, logs });
    const path = copyOfUnstamped();
    const agent = run(path, ['--server', doomed.url, '--reconnect-grace', '2']);
    try {
      await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
      const workDir = await waitFor('the work dir', () => workDirOf(agent.child.pid!));
      // Logged right after the relay sent its welcome.
      await waitFor('the agent on the relay', () => logs.some((line) => line.includes('"agent attached"')));
      await doomed.stop();
      assert.equal(await agent.exited, 0, agent.output());
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(workDir), false);
    } finally {
      await doomed.stop().catch(() => {});
    }
  });

  it("a download made for an operator's session joins it without a code, then deletes itself", async () => {
    const { session, headers, path } = await sessionDownload();

    const agent = run(path, ['--accept']);
    await waitFor('the agent to connect to the prepared session', () =>
      agent.output().includes('Connecting to the session your help desk'),
    );
    const { operator } = await joinPrepared(session.id, headers);
    assert.equal((await operator.next('consent', 0, 15_000)).accepted, true);
    await operator.until(() => operator.videos().length > 0, 'a video frame', 20_000);
    operator.send({ type: 'end', reason: 'operator-ended' });
    assert.equal(await agent.exited, 0, agent.output());
    await operator.close();
    assert.doesNotMatch(agent.output(), CODE, 'the user was shown no code and typed nothing');
    assert.equal(existsSync(path), false);
    const again = await cp.app.request(`/download/agent/linux-x64?session=${session.id}`);
    assert.equal(again.status, 410, 'a used invitation link downloads nothing');
  });

  it('a downloaded agent serves an operator a shell in a real terminal from its unpacked node-pty, and stops it at the end', async () => {
    const { session, headers, path } = await sessionDownload();

    const agent = run(path, ['--accept']);
    const pid = agent.child.pid!;
    const workDir = await waitFor('the work dir', () => workDirOf(pid));
    const { operator, welcome } = await joinPrepared(session.id, headers);
    assert.ok(welcome.slot, 'the relay gives the operator a slot');
    assert.equal((await operator.next('consent', 0, 15_000)).accepted, true);
    // A shell is off until the user at the device turns it on with its key.
    agent.child.stdin?.write('s');
    await operator.until(
      () => operator.messages('permissions').some((message) => message.permissions.shell),
      'the user to allow the shell',
    );

    const channel = channelId(welcome.slot, 1);
    operator.send({ type: 'shell-open', channel, cols: 100, rows: 30 });
    const opened = await operator.next('shell-opened', 0, 20_000);
    const terminal = () =>
      Buffer.concat(
        operator
          .shellData()
          .filter((frame) => frame.channel === channel)
          .map((frame) => frame.data),
      ).toString('utf8');
    await operator.sendBytes(
      encodeShellData({
        channel,
        stream: ShellStream.terminal,
        data: Buffer.from('stty size; echo packaged-$((6*7))\r'),
      }),
    );
    await operator.until(() => terminal().includes('packaged-42'), 'the shell to answer', 20_000);
    assert.match(terminal(), /30 100/, 'the terminal has the size the operator asked for');
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    assert.ok(
      maps.includes(join(workDir, PTY_PACKAGE_DIR, 'build', 'Release', 'pty.node')),
      'node-pty is loaded from the unpacked copy',
    );
    const children = childrenOf(pid);
    const shell = children.find((child) => child.command === basename(opened.shell));
    assert.ok(shell, `the shell runs as a child of the agent (children: ${JSON.stringify(children)})`);

    operator.send({ type: 'end', reason: 'operator-ended' });
    assert.equal(await agent.exited, 0, agent.output());
    await operator.close();
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(workDir), false, 'node-pty went with the work dir');
    for (const child of children) assert.equal(isAlive(child.pid), false, `${child.command} is not running`);
  });

  it('a tampered stamp is refused with a clear error, before anything registers', async () => {
    const path = await download();
    const found = readStamp(path)!;
    const [header, payload, signature] = found.jwt.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    claims.sub = 'win-x64';
    truncateSync(path, found.unstampedLength);
    writeFileSync(
      path,
      encodeStampTrailer(`${header}.${base64url.encode(JSON.stringify(claims))}.${signature}`),
      { flag: 'a' },
    );
    const sessionsBefore = cp.services.relay.stats().sessions;
    const agent = run(path);
    assert.equal(await agent.exited, 1, agent.output());
    assert.match(
      agent.output(),
      /configuration was altered after 127\.0\.0\.1:\d+ signed it, so it is refused/,
    );
    assert.doesNotMatch(agent.output(), CODE);
    assert.equal(cp.services.relay.stats().sessions, sessionsBefore);
    assert.equal(workDirOf(agent.child.pid!), undefined, 'the unpacked directory is removed');
    assert.equal(existsSync(path), true, 'no session ran, so the file stays for the user to delete');
  });

  it('an unstamped agent asks for the server, then for a code, and registers with Enter', async () => {
    const path = copyOfUnstamped();
    const agent = run(path);
    await waitFor('the server question', () => agent.output().includes('Address of your help desk'));
    agent.child.stdin?.write(`${cp.url}\n`);
    await waitFor('the code question', () => agent.output().includes('Code from your operator'));
    agent.child.stdin?.write('\n');
    await waitFor('the agent to show a code', () => CODE.exec(agent.output())?.[1], 30_000);
    agent.child.stdin?.write('q');
    assert.equal(await agent.exited, 0, agent.output());
    assert.equal(existsSync(path), false);
  });

  it("an unstamped agent takes the operator's code, asks again after a wrong one, and joins", async () => {
    const cookie = await loginCookie(cp.app);
    const headers = { cookie, origin: cp.url, 'content-type': 'application/json' };
    const created = await cp.app.request('/api/sessions', { method: 'POST', headers, body: '{}' });
    const { session, code } = (await created.json()) as { session: { id: string }; code: string };
    const wrong = code === '111111111' ? '222222222' : '111111111';

    const agent = run(copyOfUnstamped(), ['--accept']);
    await waitFor('the server question', () => agent.output().includes('Address of your help desk'));
    agent.child.stdin?.write(`${cp.url}\n`);
    await waitFor('the code question', () => agent.output().includes('Code from your operator'));
    agent.child.stdin?.write(`${wrong}\n`);
    await waitFor('a clear refusal and a second chance', () => agent.output().includes('Try again'));
    agent.child.stdin?.write(`${code}\n`);
    await waitFor('the agent to join', () => agent.output().includes('Connecting to the session'));
    const { operator } = await joinPrepared(session.id, headers);
    assert.equal((await operator.next('consent', 0, 15_000)).accepted, true);
    operator.send({ type: 'end', reason: 'operator-ended' });
    assert.equal(await agent.exited, 0, agent.output());
    await operator.close();
  });
});

describe('the Windows agent executable', { timeout: WINDOWS_BUILD_TIMEOUT_MS + 60_000 }, () => {
  let cp: TestControlPlane;
  let scratch: string;
  let file: string;
  /** The download as served, stamp included. */
  let download: Buffer;
  /** Where its packed footer ends (the stamp starts). */
  let packedEnd: number;
  /** The runtime the launcher unpacks: node.exe with the agent injected. */
  let bytes: Buffer;

  before(
    async () => {
      await buildAgentExecutable('win-x64');
      cp = await startControlPlane();
      scratch = mkdtempSync(join(tmpdir(), 'lifeline-packaging-win-'));
      const response = await cp.app.request('/download/agent/win-x64');
      assert.equal(response.status, 200);
      download = Buffer.from(await response.arrayBuffer());
      file = join(scratch, 'lifeline-agent-win-x64.exe');
      writeFileSync(file, download);
      packedEnd = readStamp(file)?.unstampedLength ?? download.length;
      const footer = download.subarray(packedEnd - PACKED_FOOTER_BYTES, packedEnd);
      const offset = Number(footer.readBigUInt64LE(PACKED_MAGIC.length));
      const length = Number(footer.readBigUInt64LE(PACKED_MAGIC.length + 8));
      const unpacked = spawnSync('xz', ['-dc'], {
        input: download.subarray(offset, offset + length),
        maxBuffer: 512 * 1024 * 1024,
      });
      assert.equal(unpacked.status, 0, String(unpacked.stderr));
      bytes = unpacked.stdout;
    },
    { timeout: WINDOWS_BUILD_TIMEOUT_MS },
  );
  after(async () => {
    await cp?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('is a small Windows launcher followed by the runtime compressed with xz, and a footer that finds it', () => {
    const launcher = readPeHeaders(download);
    assert.equal(launcher.machine, PE_MACHINE_X64, 'the launcher is a 64-bit PE image');
    const footer = download.subarray(packedEnd - PACKED_FOOTER_BYTES, packedEnd);
    assert.equal(footer.subarray(0, PACKED_MAGIC.length).toString('latin1'), PACKED_MAGIC);
    const offset = Number(footer.readBigUInt64LE(PACKED_MAGIC.length));
    const length = Number(footer.readBigUInt64LE(PACKED_MAGIC.length + 8));
    assert.equal(offset + length + PACKED_FOOTER_BYTES, packedEnd);
    assert.ok(offset < 512 * 1024, `the launcher is small: ${offset} bytes`);
    assert.ok(
      download.subarray(offset, offset + XZ_MAGIC.length).equals(XZ_MAGIC),
      'an xz stream follows it',
    );
    assert.ok(!download.includes(`${SEA_SENTINEL_FUSE}:1`), 'the runtime is not stored uncompressed');
    assert.equal(findPeResource(download, RT_RCDATA, 'NODE_SEA_BLOB'), undefined);
  });

  it('is served under 40 MB with gzip (the download goal), stamp included', async () => {
    const response = await cp.app.request('/download/agent/win-x64', {
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(response.headers.get('content-encoding'), 'gzip');
    const served = Buffer.from(await response.arrayBuffer());
    assert.ok(served.length <= DOWNLOAD_GOAL_BYTES, `${served.length} bytes served`);
    assert.ok(gunzipSync(served).subarray(0, packedEnd).equals(download.subarray(0, packedEnd)));
  });

  it('unpacks to a 64-bit PE image without the signature its injection broke', () => {
    const headers = readPeHeaders(bytes);
    assert.equal(headers.machine, PE_MACHINE_X64);
    assert.deepEqual(headers.directories[4], { rva: 0, size: 0 });
  });

  it('embeds the agent as the NODE_SEA_BLOB resource and has its SEA fuse flipped', () => {
    const blob = findPeResource(bytes, RT_RCDATA, 'NODE_SEA_BLOB');
    assert.ok(blob, 'the NODE_SEA_BLOB resource is there');
    assert.equal(Buffer.from(blob).readUInt32LE(0), SEA_BLOB_MAGIC);
    const text = Buffer.from(blob).toString('latin1');
    assert.ok(text.includes('share this computer with a help-desk operator'), 'the bundled agent is inside');
    for (const asset of ['assets.json', 'robotjs', 'ffmpeg']) assert.ok(text.includes(asset), asset);
    assert.ok(text.includes('ffmpeg.exe'), 'the Windows ffmpeg unpacks as ffmpeg.exe');
    assert.ok(bytes.includes(`${SEA_SENTINEL_FUSE}:1`));
    assert.ok(!bytes.includes(`${SEA_SENTINEL_FUSE}:0`));
  });

  it("carries node-pty's Windows package (ConPTY, winpty, the worker script) under the paths node-pty loads them from", () => {
    const blob = findPeResource(bytes, RT_RCDATA, 'NODE_SEA_BLOB');
    assert.ok(blob);
    const manifest = JSON.parse(findSeaAsset(blob, 'assets.json')?.toString('utf8') ?? '[]') as AssetEntry[];
    const ptyAssets = manifest.filter((entry) => entry.role === 'node-pty').map((entry) => entry.file);
    for (const path of [
      'package.json',
      'lib/index.js',
      'lib/windowsPtyAgent.js',
      'lib/worker/conoutSocketWorker.js',
      'lib/shared/conout.js',
      'prebuilds/win32-x64/conpty.node',
      'prebuilds/win32-x64/conpty_console_list.node',
      'prebuilds/win32-x64/pty.node',
      'prebuilds/win32-x64/winpty.dll',
      'prebuilds/win32-x64/winpty-agent.exe',
    ])
      assert.ok(ptyAssets.includes(`${PTY_PACKAGE_DIR}/${path}`), path);
    assert.ok(
      !ptyAssets.some((file) => file.endsWith('.pdb') || file.endsWith('.test.js')),
      'no symbols, no tests',
    );
    const expected = ptyPackageFiles('win-x64');
    assert.equal(ptyAssets.length, expected.length);
    for (const file of expected) {
      const key = `${PTY_PACKAGE_DIR}/${file.path}`;
      assert.ok(
        findSeaAsset(blob, key)?.equals(readFileSync(file.source)),
        `${key} holds the installed file`,
      );
    }
    // The packaged start-up keeps node-pty from forking a second agent when a ConPTY shell is killed.
    assert.ok(Buffer.from(blob).includes('_getConsoleProcessList'));
  });

  it('carries a stamp that reads back and verifies for win-x64', async () => {
    const found = readStamp(file);
    assert.ok(found);
    const config = await verifyStamp(found.jwt, {
      fetch: ((input: string | URL | Request) =>
        cp.app.request(new URL(String(input)).pathname)) as unknown as typeof fetch,
      executableDigest: () => digestPrefix(file, found.unstampedLength),
    });
    assert.equal(config.platform, 'win-x64');
    assert.equal(config.server, cp.url);
  });
});
