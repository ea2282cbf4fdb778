import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  encodeShellData,
  FILE_ACK_EVERY_BYTES,
  FILE_WINDOW_BYTES,
  type MessageOf,
  ShellStream,
} from '../../protocol/index.ts';
import { consoleBundle } from '../support/console-bundle.ts';
import { permissionsWith } from '../support/permissions.ts';
import { acceptAndConfigure, FakeControlPlane, type RelayPeer } from './fake-control-plane.ts';
import { launchConsoleBrowser } from './real-console.ts';
import { ScriptedAgent, type ScriptedFolder } from './scripted-agent.ts';

// The session view's chat, terminals and file manager in real headless Chromium, against a
// scripted relay and agent (scripted-agent.ts) so every answer can be chosen per test.

const ALL_ON = permissionsWith({ view: true, control: true, chat: true, files: true, shell: true });
const SLOT = 7;
const FEATURES = ['chat', 'files', 'shell', 'exec'];
/** Where screenshots go when `CONSOLE_SCREENSHOTS` names a directory. */
const SCREENSHOT_DIR = process.env['CONSOLE_SCREENSHOTS'];

function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('session tools in the console', () => {
  let browser: Browser;
  let assets: { js: string; css: string };
  let plane: FakeControlPlane;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  const scratch = mkdtempSync(join(tmpdir(), 'lifeline-tools-ui-'));

  before(async () => {
    assets = consoleBundle();
    browser = await launchConsoleBrowser();
  });

  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  beforeEach(async () => {
    plane = await FakeControlPlane.start(assets);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    problems = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy|Refused/i.test(message.text()))
        problems.push(`csp: ${message.text()}`);
    });
  });

  afterEach(async () => {
    await context?.close();
    await plane?.stop();
  });

  async function shot(name: string): Promise<void> {
    if (!SCREENSHOT_DIR) return;
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
  }

  /** Signs in, redeems a code and answers as a relay whose agent offers `features`; returns the socket. */
  async function goLive(
    options: {
      features?: string[];
      permissions?: typeof ALL_ON;
      peerIndex?: number;
      /** Plays the agent from before the welcome, so nothing the console sends at once is missed. */
      tree?: ScriptedFolder;
    } = {},
  ): Promise<RelayPeer> {
    const peerIndex = options.peerIndex ?? 0;
    if (peerIndex === 0) {
      await page.goto(plane.url);
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', 'secret');
      await page.click('button[type=submit]');
      await page.waitForSelector('body[data-view=dashboard]');
      await page.fill('[data-testid=code-input]', '482913765');
      await page.click('[data-testid=connect]');
    }
    const peer = await plane.peer(peerIndex);
    await peer.waitFor('hello');
    if (options.tree) new ScriptedAgent(peer, options.tree);
    const agent = plane.session().agent;
    peer.send({
      type: 'welcome',
      protocol: 1,
      sessionId: 'sess-1',
      agent: { ...agent, features: options.features ?? FEATURES },
      slot: SLOT,
    });
    acceptAndConfigure(peer, options.permissions ?? ALL_ON, { width: 320, height: 240 }, SLOT);
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=session-status]')?.textContent?.includes('starting video'),
    );
    return peer;
  }

  const textOf = (selector: string) => page.textContent(selector).then((text) => text ?? '');

  it('shows only the tools the agent offers', async () => {
    await goLive({ features: ['chat'] });
    await page.waitForSelector('[data-testid=tool-chat]');
    assert.equal(await page.locator('[data-testid=tool-terminal]').count(), 0);
    assert.equal(await page.locator('[data-testid=tool-files]').count(), 0);
  });

  it('shows no tools to an agent that lists no features', async () => {
    await goLive({ features: [] });
    await page.waitForSelector('[data-testid=take-control]');
    assert.equal(await page.locator('[data-testid^=tool-]').count(), 0);
  });

  it('chat: history on join, Enter sends, Shift+Enter breaks the line, the echo confirms, unread counts while closed', async () => {
    const peer = await goLive();
    new ScriptedAgent(peer, {});
    peer.send({
      type: 'chat',
      id: 'h1',
      text: 'Hello, my printer is stuck',
      from: { kind: 'user', name: 'bob' },
      sentAt: Date.now() - 60_000,
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=chat-unread]')?.textContent?.startsWith('1'),
    );
    await page.click('[data-testid=tool-chat]');
    await page.waitForSelector('[data-testid=chat-panel]');
    assert.equal(
      await page.locator('[data-testid=chat-unread]').count(),
      0,
      'opening the panel reads everything',
    );
    assert.equal(await textOf('[data-testid=chat-message] [data-testid=chat-author]'), 'bob');
    assert.equal(
      await textOf('[data-testid=chat-message] [data-testid=chat-text]'),
      'Hello, my printer is stuck',
    );

    await page.click('[data-testid=chat-input]');
    await page.keyboard.type('Let me look.');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('One moment');
    await page.keyboard.press('Enter');
    const sent = await peer.waitFor('chat', (message) => message.text.startsWith('Let me'));
    assert.equal(sent.text, 'Let me look.\nOne moment');
    assert.equal(sent.from, undefined, 'the relay stamps the author, not the console');
    assert.match(sent.id, /^[0-9a-f-]{36}$/);
    assert.equal(await page.inputValue('[data-testid=chat-input]'), '');
    await page.waitForFunction(() => {
      const last = [...document.querySelectorAll('[data-testid=chat-message]')].at(-1);
      return last?.getAttribute('data-author-kind') === 'mine' && !last.textContent?.includes('Sending');
    });
    assert.equal(
      await page.locator('[data-testid=chat-message]').count(),
      2,
      'the echo replaces, never adds',
    );

    await page.click('[data-testid=tool-chat]');
    // Messages count as unread only once the panel is hidden (it stays mounted to keep the draft).
    await page.waitForSelector('[data-testid=chat-panel]', { state: 'hidden' });
    peer.send({
      type: 'chat',
      id: 'r1',
      text: 'ok',
      from: { kind: 'user', name: 'bob' },
      sentAt: Date.now(),
    });
    peer.send({
      type: 'chat',
      id: 'r2',
      text: 'thanks',
      from: { kind: 'user', name: 'bob' },
      sentAt: Date.now(),
    });
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=chat-unread]')?.textContent?.startsWith('2'),
    );
    await page.click('[data-testid=tool-chat]');
    await shot('chat');
    assert.deepEqual(problems, []);
  });

  it('chat is disabled with the reason until the user allows it, and a refused message shows as not delivered', async () => {
    const peer = await goLive({ permissions: { ...ALL_ON, chat: false } });
    await page.click('[data-testid=tool-chat]');
    assert.match(await textOf('[data-testid=chat-unavailable]'), /has not allowed chat/);
    assert.equal(await page.isDisabled('[data-testid=chat-input]'), true);
    await shot('chat-disabled');

    peer.send({ type: 'permissions', permissions: ALL_ON });
    await page.waitForSelector('[data-testid=chat-unavailable]', { state: 'detached' });
    await page.fill('[data-testid=chat-input]', 'are you there?');
    await page.press('[data-testid=chat-input]', 'Enter');
    await peer.waitFor('chat');
    peer.send({ type: 'error', code: 'CAPABILITY_NOT_ALLOWED', message: 'The user has not allowed chat.' });
    await page.waitForSelector('[data-testid=chat-failed]');
    assert.equal(await textOf('[data-testid=chat-error]'), 'The user has not allowed chat.');
    assert.match(await textOf('[data-testid=session-status]'), /starting video/, 'the session goes on');
  });

  it('terminal: opens at the fitted size, sends keystrokes on stream 0, shows output, resizes, and offers Reopen after shell-exit', async () => {
    const peer = await goLive();
    await page.click('[data-testid=tool-terminal]');
    const open = await peer.waitFor('shell-open');
    assert.equal(open.channel >>> 16, SLOT, 'channel ids carry the slot');
    assert.ok(open.cols >= 40 && open.rows >= 10, JSON.stringify(open));
    peer.send({ type: 'shell-opened', channel: open.channel, shell: '/bin/bash' });
    const say = (text: string) =>
      peer.sendRaw(
        encodeShellData({
          channel: open.channel,
          stream: ShellStream.terminal,
          data: new TextEncoder().encode(text),
        }),
      );
    say('\x1b[32mbob@desk-42\x1b[0m:~$ ');
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=terminal-screen] .xterm-rows')
        ?.textContent?.includes('bob@desk-42'),
    );
    await page.waitForFunction(
      () => document.querySelector('[data-testid=terminal-pane]')?.getAttribute('data-status') === 'open',
    );
    // The theme's colours reach the page (xterm.js's own <style> would be refused by the CSP).
    const promptColour = await page.evaluate(() => {
      const span = [...document.querySelectorAll('[data-testid=terminal-screen] .xterm-rows span')].find(
        (element) => element.textContent === 'bob@desk-42',
      );
      return span ? getComputedStyle(span).color : 'missing';
    });
    const plainColour = await page.$eval(
      '[data-testid=terminal-screen] .xterm-rows',
      (rows) => getComputedStyle(rows).color,
    );
    assert.notEqual(promptColour, plainColour, 'ANSI green differs from the default foreground');
    assert.equal(plainColour, 'rgb(226, 232, 240)');
    await page.keyboard.type('ls\r');
    const typed = await peer.until('the keystrokes', () => {
      const text = Buffer.concat(peer.frames.filter((f) => f.kind === 'shell').map((f) => f.data)).toString();
      return text === 'ls\r' ? text : undefined;
    });
    assert.equal(typed, 'ls\r');
    assert.ok(
      peer.frames.every(
        (frame) => frame.kind === 'shell' && frame.stream === 0 && frame.channel === open.channel,
      ),
    );
    say('ls\r\nDocuments  \x1b[38;2;255;128;0mDownloads\x1b[0m\r\n$ ');
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid=terminal-screen] .xterm-rows')
        ?.textContent?.includes('Documents  Downloads'),
    );
    // 24-bit colours too (xterm.js sets them as style attributes, which the CSP refuses).
    const truecolour = await page.evaluate(() => {
      const span = [...document.querySelectorAll('[data-testid=terminal-screen] .xterm-rows span')].find(
        (element) => element.textContent === 'Downloads',
      );
      return span ? getComputedStyle(span).color : 'missing';
    });
    assert.equal(truecolour, 'rgb(255, 128, 0)');
    await shot('terminal');

    await page.setViewportSize({ width: 1500, height: 900 });
    const resize = await peer.waitFor('shell-resize');
    assert.equal(resize.channel, open.channel);
    assert.ok(resize.cols > open.cols && resize.rows > open.rows, JSON.stringify({ open, resize }));

    peer.send({ type: 'shell-exit', channel: open.channel, exitCode: 3, signal: null });
    await page.waitForSelector('[data-testid=terminal-ended]');
    assert.equal(await textOf('[data-testid=terminal-ended]'), 'Shell exited with code 3');
    await page.click('[data-testid=terminal-reopen]');
    const reopened = await peer.waitFor('shell-open', (message) => message.channel !== open.channel);
    assert.equal(reopened.channel >>> 16, SLOT);
    assert.deepEqual(problems, [], 'xterm.js draws under the console CSP without violations');
  });

  it('terminal: several tabs each with their own channel; revoking the shell closes them with the reason', async () => {
    const peer = await goLive();
    await page.click('[data-testid=tool-terminal]');
    const first = await peer.waitFor('shell-open');
    peer.send({ type: 'shell-opened', channel: first.channel, shell: '/bin/sh' });
    await page.click('[data-testid=terminal-new]');
    const second = await peer.waitFor('shell-open', (message) => message.channel !== first.channel);
    peer.send({ type: 'shell-opened', channel: second.channel, shell: '/bin/sh' });
    assert.equal(await page.locator('[data-testid=terminal-tab]').count(), 2);

    // The agent closes each shell with CAPABILITY_NOT_ALLOWED and reports the new permissions.
    peer.send({
      type: 'channel-error',
      channel: second.channel,
      code: 'CAPABILITY_NOT_ALLOWED',
      message: 'no',
    });
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=terminal-pane]:not([hidden]) [data-testid=terminal-ended]') !==
        null,
    );
    assert.equal(
      await textOf('[data-testid=terminal-pane]:not([hidden]) [data-testid=terminal-ended]'),
      'The user has not allowed shell access.',
    );
    peer.send({ type: 'permissions', permissions: { ...ALL_ON, shell: false } });
    await page.waitForSelector('[data-testid=terminal-unavailable]');
    assert.equal(await page.isDisabled('[data-testid=terminal-new]'), true);
    assert.equal(
      await page.isDisabled('[data-testid=terminal-pane]:not([hidden]) [data-testid=terminal-reopen]'),
      true,
    );
    await page.click('[data-testid=terminal-tab] >> nth=0');
    assert.equal(
      await textOf('[data-testid=terminal-pane]:not([hidden]) [data-testid=terminal-ended]'),
      'The user turned off shell access.',
    );
    await shot('terminal-revoked');
  });

  it('files: lists the shared folder folders first, walks into folders with breadcrumbs, and pages past 300 entries', async () => {
    const many: ScriptedFolder = {};
    for (let i = 0; i < 320; i++) many[`log-${String(i).padStart(3, '0')}.txt`] = bytes(10, i);
    const peer = await goLive();
    new ScriptedAgent(peer, {
      'notes.txt': bytes(1234),
      Documents: { 'Report.pdf': bytes(2_500_000), archive: {} },
      'alpha.bin': bytes(10),
      logs: many,
    });
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=file-row]');
    const names = await page.$$eval('[data-testid=file-row]', (rows) =>
      rows.map((row) => row.getAttribute('data-name')),
    );
    assert.deepEqual(names, ['Documents', 'logs', 'alpha.bin', 'notes.txt']);
    assert.equal(await textOf('[data-testid=breadcrumbs]'), 'bob');
    const notes = page.locator('[data-testid=file-row][data-name="notes.txt"]');
    assert.match((await notes.textContent()) ?? '', /1\.23 kB/);

    await page.click('[data-testid=file-row][data-name=Documents] [data-testid=file-open]');
    await page.waitForSelector('[data-testid=file-row][data-name="Report.pdf"]');
    assert.equal(await textOf('[data-testid=breadcrumbs]'), 'bob/Documents');
    await shot('files');
    await page.click('[data-testid=breadcrumb]');
    await page.click('[data-testid=file-row][data-name=logs] [data-testid=file-open]');
    await page.waitForSelector('[data-testid=files-pager]');
    assert.match(await textOf('[data-testid=files-pager]'), /1–300 of 320/);
    assert.equal(await page.locator('[data-testid=file-row]').count(), 300);
    await page.click('[data-testid=files-next]');
    await page.waitForFunction(() =>
      document.querySelector('[data-testid=files-pager]')?.textContent?.includes('301–320'),
    );
    assert.equal(await page.locator('[data-testid=file-row]').count(), 20);
    const lists = peer.messages.filter(
      (message): message is MessageOf<'file-list'> => message.type === 'file-list',
    );
    assert.deepEqual(lists.at(-1)?.offset, 300);
    assert.ok(lists.every((message) => message.channel >>> 16 === SLOT));
  });

  it('download: acks within the window, checks the SHA-256 and saves identical bytes', async () => {
    const report = bytes(3_300_000, 7);
    const peer = await goLive();
    new ScriptedAgent(peer, { 'Report.pdf': report });
    await page.click('[data-testid=tool-files]');
    const downloading = page.waitForEvent('download');
    await page.click('[data-testid=file-row][data-name="Report.pdf"] [data-testid=file-download]');
    const download = await downloading;
    assert.equal(download.suggestedFilename(), 'Report.pdf');
    const saved = readFileSync((await download.path())!);
    assert.equal(sha256(saved), sha256(report));
    const acks = peer.messages.filter(
      (message): message is MessageOf<'file-ack'> => message.type === 'file-ack',
    );
    assert.equal(acks.at(-1)?.offset, report.byteLength);
    for (const [index, ack] of acks.entries()) {
      const previous = acks[index - 1]?.offset ?? 0;
      assert.ok(ack.offset - previous <= FILE_WINDOW_BYTES, 'acks come at least once per window');
      if (ack.offset < report.byteLength) assert.ok(ack.offset - previous >= FILE_ACK_EVERY_BYTES);
    }
    await page.waitForSelector('[data-testid=transfer][data-status=done]');
    assert.match(await textOf('[data-testid=transfer-line]'), /Done · 3\.30 MB/);
  });

  it("download: a dropped relay connection pauses it and ends the agent's side; after Reconnect it resumes from the received offset", async () => {
    const report = bytes(3_000_000, 9);
    const first = await goLive();
    const agent = new ScriptedAgent(first, { 'big.iso': report });
    let droppedAfter = -1;
    agent.onChunkSent = (_path, sent) => {
      if (droppedAfter < 0 && sent >= 1_200_000) {
        droppedAfter = sent;
        first.drop();
      }
    };
    await page.click('[data-testid=tool-files]');
    await page.click('[data-testid=file-row][data-name="big.iso"] [data-testid=file-download]');
    await page.waitForSelector('[data-testid=transfer][data-status=interrupted]');
    assert.match(await textOf('[data-testid=transfer-line]'), /paused until the connection is back/);
    // The agent's side of the dropped download ended with the connection: its file is closed.
    const [read] = first.messages.filter((message) => message.type === 'file-read');
    assert.deepEqual(await agent.closed, [read?.channel]);
    await page.click('[data-testid=reconnect]');
    const downloading = page.waitForEvent('download');
    const second = await goLive({ peerIndex: 1, tree: { 'big.iso': report } });
    const resumed = await second.waitFor('file-read');
    // Chunks sent before the drop may or may not have arrived: the console resumes from what it has.
    assert.ok(
      resumed.offset > 0 && resumed.offset <= droppedAfter,
      `resumed at ${resumed.offset} of ${droppedAfter}`,
    );
    assert.equal(resumed.channel >>> 16, SLOT);
    const saved = readFileSync((await (await downloading).path())!);
    assert.equal(sha256(saved), sha256(report));
  });

  it('upload: file-write, chunks from the ready offset within the window, file-end with the SHA-256; FILE_EXISTS asks before replacing', async () => {
    const peer = await goLive();
    const agent = new ScriptedAgent(peer, { 'setup.log': bytes(5) });
    const content = bytes(2_700_000, 3);
    // Half of it already arrived in an earlier, interrupted upload.
    agent.parts.set('setup.log', content.slice(0, 1_000_000));
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=file-row]');
    const file = join(scratch, 'setup.log');
    writeFileSync(file, content);
    await page.setInputFiles('[data-testid=upload-input]', file);
    await page.waitForSelector('[data-testid=transfer][data-status=exists]');
    assert.match(await textOf('[data-testid=transfer-line]'), /setup\.log already exists/);
    await shot('files-exists');
    await page.click('[data-testid=transfer-replace]');
    await page.waitForSelector('[data-testid=transfer][data-status=done]');
    const writes = peer.messages.filter(
      (message): message is MessageOf<'file-write'> => message.type === 'file-write',
    );
    assert.deepEqual(
      writes.map((message) => [message.path, message.size, message.overwrite]),
      [
        ['setup.log', content.byteLength, false],
        ['setup.log', content.byteLength, true],
      ],
    );
    const chunks = peer.frames.filter((frame) => frame.kind === 'file');
    assert.equal(chunks[0]?.offset, 1_000_000, 'it resumes from the part file');
    assert.equal(sha256(agent.find('setup.log') as Uint8Array), sha256(content));
    const end = await peer.waitFor('file-end');
    assert.equal(end.sha256, sha256(content));
    assert.equal(end.size, content.byteLength);
    await page.waitForSelector('[data-testid=file-row][data-name="setup.log"]');
  });

  it('files dropped onto the panel upload into the folder shown', async () => {
    const peer = await goLive();
    const agent = new ScriptedAgent(peer, { inbox: {} });
    await page.click('[data-testid=tool-files]');
    await page.click('[data-testid=file-row][data-name=inbox] [data-testid=file-open]');
    await page.waitForSelector('[data-testid=files-panel] .files__empty');
    const dataTransfer = await page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['first dropped file'], 'one.txt'));
      transfer.items.add(new File(['second'], 'two.txt'));
      return transfer;
    });
    await page.dispatchEvent('[data-testid=files-panel]', 'dragover', { dataTransfer });
    await page.waitForSelector('.files__drop');
    await page.dispatchEvent('[data-testid=files-panel]', 'drop', { dataTransfer });
    await page.waitForSelector('[data-testid=file-row][data-name="two.txt"]');
    assert.equal(Buffer.from(agent.find('inbox/one.txt') as Uint8Array).toString(), 'first dropped file');
    assert.equal(Buffer.from(agent.find('inbox/two.txt') as Uint8Array).toString(), 'second');
    assert.equal(await page.locator('.files__drop').count(), 0);
  });

  it('a transfer under way shows its bytes, speed and time left, and Cancel closes its channel', async () => {
    const peer = await goLive();
    const agent = new ScriptedAgent(peer, {});
    agent.ackDelayMs = 300;
    agent.ackLimit = 6_000_000;
    const content = bytes(10_000_000, 5);
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=files-panel] .files__empty');
    // Large files go to the browser by path; a buffer would cross the DevTools protocol as base64.
    const file = join(scratch, 'capture.pcap');
    writeFileSync(file, content);
    await page.setInputFiles('[data-testid=upload-input]', file);
    await page.waitForFunction(
      () =>
        /of 10\.0 MB · .+\/s · \d+ s left/.test(
          document.querySelector('[data-testid=transfer-line]')?.textContent ?? '',
        ),
      undefined,
      { timeout: 20_000 },
    );
    const progress = await page.$eval(
      '[data-testid=transfer] progress',
      (bar) => (bar as HTMLProgressElement).value,
    );
    assert.ok(progress > 0 && progress < 100, `progress ${progress}`);
    await shot('files-progress');
    await page.click('[data-testid=transfer-cancel]');
    const write = await peer.waitFor('file-write');
    assert.deepEqual(await peer.waitFor('channel-close'), { type: 'channel-close', channel: write.channel });
    await page.waitForSelector('[data-testid=transfer][data-status=cancelled]');
    assert.equal(agent.find('capture.pcap'), undefined);
  });

  it('new folder, rename and delete send file-op and refresh; refusals read clearly', async () => {
    const peer = await goLive();
    const agent = new ScriptedAgent(peer, { 'a.txt': bytes(3), full: { 'x.txt': bytes(1) } });
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=file-row]');
    await page.click('[data-testid=new-folder]');
    await page.fill('[data-testid=new-folder-name]', 'Reports');
    await page.press('[data-testid=new-folder-name]', 'Enter');
    await page.waitForSelector('[data-testid=file-row][data-name=Reports]');
    assert.deepEqual((await peer.waitFor('file-op')).op, 'mkdir');

    await page.click('[data-testid=file-row][data-name="a.txt"] [data-testid=file-rename]');
    await page.fill('[data-testid=file-rename-input]', 'b.txt');
    await page.press('[data-testid=file-rename-input]', 'Enter');
    await page.waitForSelector('[data-testid=file-row][data-name="b.txt"]');
    const rename = await peer.waitFor('file-op', (message) => message.op === 'rename');
    assert.deepEqual([rename.path, rename.to], ['a.txt', 'b.txt']);

    await page.click('[data-testid=file-row][data-name=full] [data-testid=file-delete]');
    await page.click('[data-testid=file-row][data-name=full] [data-testid=file-delete]');
    await page.waitForSelector('[data-testid=files-op-error]');
    assert.equal(
      await textOf('[data-testid=files-op-error]'),
      'The device could not do it: full is not empty; only empty folders are deleted.',
    );
    await page.click('[data-testid=file-row][data-name="b.txt"] [data-testid=file-delete]');
    await page.click('[data-testid=file-row][data-name="b.txt"] [data-testid=file-delete]');
    await page.waitForSelector('[data-testid=file-row][data-name="b.txt"]', { state: 'detached' });
    assert.equal(agent.find('b.txt'), undefined);

    await page.click('[data-testid=file-row][data-name=Reports] [data-testid=file-rename]');
    await page.fill('[data-testid=file-rename-input]', 'a/b');
    await page.press('[data-testid=file-rename-input]', 'Enter');
    assert.equal(await textOf('.file-rename__problem'), 'A name cannot contain / or \\.');
  });

  it('a listing outside the shared folder shows PATH_OUTSIDE_FOLDER in words', async () => {
    const peer = await goLive();
    peer.onReceive = (item) => {
      if ('type' in item && item.type === 'file-list')
        peer.send({
          type: 'channel-error',
          channel: item.channel,
          code: 'PATH_OUTSIDE_FOLDER',
          message: 'x',
        });
    };
    await page.click('[data-testid=tool-files]');
    await page.waitForSelector('[data-testid=files-error]');
    assert.equal(
      await textOf('[data-testid=files-error]'),
      'That path is outside the folder the user shares.',
    );
  });

  it('files are disabled with the reason while the user does not allow them', async () => {
    await goLive({ permissions: { ...ALL_ON, files: false } });
    await page.click('[data-testid=tool-files]');
    assert.match(await textOf('[data-testid=files-unavailable]'), /has not allowed file access/);
    assert.equal(await page.isDisabled('[data-testid=upload]'), true);
    await shot('files-disabled');
  });

  it('"Ask for access" sends a permission request, waits for the user, and the panel enables when they allow it', async () => {
    const peer = await goLive({ permissions: { ...ALL_ON, files: false } });
    await page.click('[data-testid=tool-files]');
    assert.match(await textOf('[data-testid=ask-files]'), /^Ask .+ for access$/);
    await page.click('[data-testid=ask-files]');
    const request = await peer.waitFor('permission-request');
    assert.deepEqual(request.requested, permissionsWith({ files: true }));
    assert.match(await textOf('[data-testid=ask-files-status]'), /^Waiting for .+…$/);
    assert.equal(await page.isDisabled('[data-testid=ask-files]'), true, 'one question at a time');
    await shot('files-asking');

    peer.send({ type: 'permissions', permissions: ALL_ON });
    await page.waitForSelector('[data-testid=files-unavailable]', { state: 'detached' });
    assert.equal(await page.isDisabled('[data-testid=upload]'), false);
    assert.deepEqual(problems, []);
  });

  it('"Ask for control" beside Take control asks the user, and Take control enables when they allow it', async () => {
    const peer = await goLive({ permissions: { ...ALL_ON, control: false } });
    assert.equal(await page.isDisabled('[data-testid=take-control]'), true);
    await page.click('[data-testid=ask-control]');
    const request = await peer.waitFor('permission-request');
    assert.deepEqual(request.requested, permissionsWith({ control: true }));
    peer.send({ type: 'permissions', permissions: ALL_ON });
    await page.waitForFunction(
      () => !(document.querySelector('[data-testid=take-control]') as HTMLButtonElement | null)?.disabled,
    );
    assert.equal(await page.$('[data-testid=ask-control]'), null, 'nothing left to ask for');
  });

  it('"Ask for access" shows the refusal when the permissions that answer it do not grant it', async () => {
    const peer = await goLive({ permissions: { ...ALL_ON, chat: false } });
    await page.click('[data-testid=tool-chat]');
    await page.click('[data-testid=ask-chat]');
    const request = await peer.waitFor('permission-request');
    assert.equal(request.requested.chat, true);
    peer.send({ type: 'permissions', permissions: { ...ALL_ON, chat: false } });
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=ask-chat-status]')?.textContent === 'The user did not allow it.',
    );
    assert.equal(await page.isDisabled('[data-testid=chat-input]'), true);
    assert.equal(await page.isDisabled('[data-testid=ask-chat]'), false, 'they may be asked again');
  });
});
