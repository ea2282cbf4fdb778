import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { createInputInjector, type InputInjectorStats } from '../../agent/input/input-injector.ts';
import { robotKeyFor } from '../../agent/input/key-map.ts';
import { createLinuxPlatform } from '../../agent/platform/linux.ts';
import type { RobotLike } from '../../agent/platform/robot.ts';
import { createWindowsPlatform } from '../../agent/platform/windows.ts';
import type { InputEvent } from '../../protocol/input.ts';
import { waitFor } from '../support/processes.ts';
import { pointerLocation, runX, startXvfb, type Xvfb } from '../support/xvfb.ts';

const WIDTH = 1280;
const HEIGHT = 720;

interface Reply {
  stats: InputInjectorStats;
  screen: { width: number; height: number };
  errors: string[];
}

/** The injector with real robotjs, in a child process bound to the test's display. */
interface Injector {
  apply(...events: InputEvent[]): Promise<Reply>;
  releaseAll(): Promise<Reply>;
  state(): Promise<Reply>;
  stop(): Promise<void>;
}

function startInjector(display: string): Injector {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'input-injector.child.ts')],
    {
      env: { ...process.env, DISPLAY: display },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let queue = Promise.resolve<Reply | undefined>(undefined);
  const request = (body: object): Promise<Reply> => {
    const reply = queue.then(async () => {
      child.stdin.write(`${JSON.stringify(body)}\n`);
      const next = await lines.next();
      if (next.done) throw new Error('the injector process exited');
      return JSON.parse(next.value) as Reply;
    });
    queue = reply.catch(() => undefined);
    return reply;
  };
  return {
    async apply(...events) {
      let reply: Reply | undefined;
      for (const event of events) reply = await request({ op: 'apply', event });
      assert.ok(reply);
      return reply;
    },
    releaseAll: () => request({ op: 'releaseAll' }),
    state: () => request({ op: 'state' }),
    stop: () => stopChild(child, () => child.stdin.end()),
  };
}

/** Asks a child to end (or SIGTERMs it), SIGKILLs it after 3 s, and resolves once it has exited. */
async function stopChild(child: ChildProcess, ask: () => void = () => child.kill('SIGTERM')): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  ask();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts an X client and waits until its window, found by title, is on screen. */
async function startClient(xvfb: Xvfb, command: string, args: string[], title: string) {
  const child = spawn(command, args, {
    env: { ...process.env, DISPLAY: xvfb.display },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    output += text;
  });
  const window = await waitFor(`${title} on screen`, async () => {
    const found = await runX('xdotool', ['search', '--onlyvisible', '--name', title], xvfb.display).catch(
      () => '',
    );
    return found.trim().split('\n')[0] || undefined;
  });
  const geometry = await runX('xdotool', ['getwindowgeometry', '--shell', window], xvfb.display);
  const read = (name: string) => Number(new RegExp(`^${name}=(\\d+)$`, 'm').exec(geometry)?.[1]);
  const centre = {
    x: (read('X') + read('WIDTH') / 2) / WIDTH,
    y: (read('Y') + read('HEIGHT') / 2) / HEIGHT,
  };
  return { child, centre, output: () => output };
}

/** Key events that type `text` with US-layout codes, holding ShiftLeft for capitals. */
function typing(text: string): InputEvent[] {
  const codes: Record<string, string> = {
    ' ': 'Space',
    '-': 'Minus',
    '=': 'Equal',
    ',': 'Comma',
    '.': 'Period',
  };
  return [...text].flatMap((character): InputEvent[] => {
    const upper = /[A-Z]/.test(character);
    const code = /[a-z]/i.test(character)
      ? `Key${character.toUpperCase()}`
      : /\d/.test(character)
        ? `Digit${character}`
        : codes[character];
    assert.ok(code, `no code for ${character}`);
    const press: InputEvent[] = [
      { kind: 'key', code, down: true },
      { kind: 'key', code, down: false },
    ];
    if (!upper) return press;
    return [
      { kind: 'key', code: 'ShiftLeft', down: true },
      ...press,
      { kind: 'key', code: 'ShiftLeft', down: false },
    ];
  });
}

describe('createInputInjector with real robotjs on Xvfb', () => {
  let xvfb: Xvfb;
  let injector: Injector;
  let dir: string;
  const clients: ChildProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-input-'));
    xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
    injector = startInjector(xvfb.display);
  });

  after(async () => {
    // robotjs must let go of the display before the display goes away.
    await injector?.stop();
    for (const child of clients) await stopChild(child);
    await xvfb?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sees the Xvfb screen size through robotjs', async () => {
    const { screen } = await injector.state();
    assert.deepEqual(screen, { width: WIDTH, height: HEIGHT });
  });

  it('a move to (0.5, 0.25) puts the real X pointer at (640, 180)', async () => {
    await injector.apply({ kind: 'move', x: 0.5, y: 0.25 });
    assert.deepEqual(await pointerLocation(xvfb.display), { x: 640, y: 180 });
  });

  it('clamps positions at and beyond the edges to the screen', async () => {
    await injector.apply({ kind: 'move', x: 1, y: 1.5 });
    assert.deepEqual(await pointerLocation(xvfb.display), { x: WIDTH - 1, y: HEIGHT - 1 });
    await injector.apply({ kind: 'move', x: -0.2, y: 0 });
    assert.deepEqual(await pointerLocation(xvfb.display), { x: 0, y: 0 });
  });

  it('ignores a non-finite position and an unknown key code without throwing', async () => {
    const before = (await injector.state()).stats;
    const after = await injector.apply(
      { kind: 'move', x: Number.NaN, y: 0.5 },
      { kind: 'key', code: 'NoSuchKey', down: true },
    );
    assert.equal(after.stats.ignored, before.ignored + 2);
    assert.equal(after.stats.failed, before.failed);
  });

  it('a left click at a position is seen there by an X client', async () => {
    const xev = await startClient(
      xvfb,
      'xev',
      ['-geometry', '200x100+540+310', '-event', 'button', '-name', 'lifeline-xev'],
      'lifeline-xev',
    );
    clients.push(xev.child);
    await injector.apply(
      { kind: 'button', button: 'left', down: true, x: 0.5, y: 0.5 },
      { kind: 'button', button: 'left', down: false, x: 0.5, y: 0.5 },
    );
    const output = await waitFor('the click in xev', () =>
      /ButtonRelease/.test(xev.output()) ? xev.output() : undefined,
    );
    assert.match(output, /ButtonPress event[\s\S]*?root:\(640,360\),\s+state 0x0, button 1,/);
    assert.match(output, /ButtonRelease event[\s\S]*?root:\(640,360\),\s+state 0x100, button 1,/);

    // A button still down when control is revoked is lifted by releaseAll.
    await injector.apply({ kind: 'button', button: 'right', down: true, x: 0.5, y: 0.5 });
    await injector.releaseAll();
    await waitFor('the right button release', () =>
      /ButtonRelease event[\s\S]*?button 3,/.test(xev.output()) ? true : undefined,
    );
    await stopChild(xev.child);
  });

  it('wheel steps down and right reach an X client as buttons 5 and 7', async () => {
    const xev = await startClient(
      xvfb,
      'xev',
      ['-geometry', '200x100+100+500', '-event', 'button', '-name', 'lifeline-xev-wheel'],
      'lifeline-xev-wheel',
    );
    clients.push(xev.child);
    await injector.apply({ kind: 'move', ...xev.centre }, { kind: 'wheel', dx: 1, dy: 2 });
    const presses = () =>
      [...xev.output().matchAll(/ButtonPress event[\s\S]*?button (\d+),/g)].map((m) => m[1]);
    const seen = await waitFor('three wheel presses', () => (presses().length >= 3 ? presses() : undefined));
    assert.deepEqual([...seen].sort(), ['5', '5', '7']);
    await stopChild(xev.child);
  });

  it('typed keys reach a real X client as text, with Shift, punctuation and numpad digits', async () => {
    const file = join(dir, 'typed.txt');
    const xterm = await startClient(
      xvfb,
      'xterm',
      ['-T', 'lifeline-xterm', '-geometry', '80x10+0+0', '-e', 'sh', '-c', `cat > '${file}'`],
      'lifeline-xterm',
    );
    clients.push(xterm.child);
    // Without a window manager the keyboard focus follows the pointer.
    await injector.apply({ kind: 'move', ...xterm.centre });
    await injector.apply(
      ...typing('Hello World 42-=,.'),
      { kind: 'key', code: 'Numpad7', down: true },
      { kind: 'key', code: 'Numpad7', down: false },
      { kind: 'key', code: 'Enter', down: true },
      { kind: 'key', code: 'Enter', down: false },
    );
    const typed = await waitFor('the typed line', () => {
      const text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
      return text.endsWith('\n') ? text : undefined;
    });
    assert.equal(typed, 'Hello World 42-=,.7\n');
  });

  it('releaseAll lifts a held Shift, so the next letter is lower case', async () => {
    const file = join(dir, 'release.txt');
    const xterm = await startClient(
      xvfb,
      'xterm',
      ['-T', 'lifeline-xterm-2', '-geometry', '80x10+0+200', '-e', 'sh', '-c', `cat > '${file}'`],
      'lifeline-xterm-2',
    );
    clients.push(xterm.child);
    await injector.apply({ kind: 'move', ...xterm.centre });
    await injector.apply(
      { kind: 'key', code: 'ShiftLeft', down: true },
      { kind: 'key', code: 'KeyA', down: true },
      { kind: 'key', code: 'KeyA', down: false },
    );
    await injector.releaseAll();
    await injector.apply(
      ...typing('b'),
      { kind: 'key', code: 'Enter', down: true },
      { kind: 'key', code: 'Enter', down: false },
    );
    const typed = await waitFor('the typed line', () => {
      const text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
      return text.endsWith('\n') ? text : undefined;
    });
    assert.equal(typed, 'Ab\n');
  });

  it('refuses CapsLock on X11 instead of letting Xlib kill the agent', async () => {
    const before = (await injector.state()).stats;
    const reply = await injector.apply({ kind: 'key', code: 'CapsLock', down: true });
    assert.equal(reply.stats.failed, before.failed + 1);
    // Still alive and injecting.
    await injector.apply({ kind: 'move', x: 0.25, y: 0.25 });
    assert.deepEqual(await pointerLocation(xvfb.display), { x: 320, y: 180 });
  });
});

describe('createInputInjector on a German X keymap', () => {
  let xvfb: Xvfb;
  let injector: Injector;

  before(async () => {
    xvfb = await startXvfb({ width: WIDTH, height: HEIGHT });
    // The German keymap has dead_grave but no grave: robotjs would send keycode 0 for Backquote,
    // and Xlib would exit the agent on the server's BadValue.
    await runX('setxkbmap', ['de'], xvfb.display);
    injector = startInjector(xvfb.display);
  });

  after(async () => {
    await injector?.stop();
    await xvfb?.stop();
  });

  it('refuses a key whose character the keymap lacks, and keeps injecting', async () => {
    const before = (await injector.state()).stats;
    const reply = await injector.apply(
      { kind: 'key', code: 'Backquote', down: true },
      { kind: 'key', code: 'Backquote', down: false },
    );
    assert.equal(reply.stats.failed, before.failed + 2);
    assert.match(reply.errors.at(-1) ?? '', /grave/);
    await injector.apply(
      { kind: 'key', code: 'KeyA', down: true },
      { kind: 'key', code: 'KeyA', down: false },
    );
    await injector.apply({ kind: 'move', x: 0.5, y: 0.5 });
    assert.deepEqual(await pointerLocation(xvfb.display), { x: 640, y: 360 });
    assert.equal((await injector.state()).stats.failed, before.failed + 2);
  });
});

describe('robotKeyFor', () => {
  it('maps letters, digits, function keys and punctuation to robotjs names', () => {
    assert.deepEqual(robotKeyFor('KeyQ'), { key: 'q' });
    assert.deepEqual(robotKeyFor('Digit0'), { key: '0' });
    assert.deepEqual(robotKeyFor('F12'), { key: 'f12' });
    assert.deepEqual(robotKeyFor('BracketLeft'), { key: '[' });
    assert.deepEqual(robotKeyFor('Quote'), { key: "'" });
    assert.deepEqual(robotKeyFor('ArrowLeft'), { key: 'left' });
    assert.deepEqual(robotKeyFor('ControlRight'), { key: 'right_control' });
    assert.deepEqual(robotKeyFor('Numpad3'), { key: 'numpad_3', fallback: '3' });
  });

  it('returns undefined for codes robotjs cannot press', () => {
    for (const code of ['F13', 'IntlBackslash', 'MediaPlayPause', 'toString', '', 'Keya']) {
      assert.equal(robotKeyFor(code), undefined, code);
    }
  });
});

/** A RobotLike that records the key calls it gets: Windows cannot run here, its key path can. */
function recordingRobot(): { robot: RobotLike; calls: string[] } {
  const calls: string[] = [];
  const robot: RobotLike = {
    getScreenSize: () => ({ width: WIDTH, height: HEIGHT }),
    moveMouse: () => {},
    mouseToggle: () => {},
    scrollMouse: () => {},
    keyToggle: (key, down) => calls.push(`${key} ${down}`),
    typeString: (text) => calls.push(`type ${text}`),
  };
  return { robot, calls };
}

const press = (code: string, key?: string): InputEvent[] => [
  { kind: 'key', code, ...(key === undefined ? {} : { key }), down: true },
  { kind: 'key', code, down: false },
];

describe('createInputInjector on Windows (recorded)', () => {
  function windowsInjector() {
    const { robot, calls } = recordingRobot();
    const input = createInputInjector({
      screen: () => ({ width: WIDTH, height: HEIGHT }),
      platform: createWindowsPlatform(),
      robot,
    });
    return { input, calls };
  }

  it('types printable characters as Unicode once per press, with Shift held or not, and drops their releases', () => {
    const { input, calls } = windowsInjector();
    const events: InputEvent[] = [
      ...press('KeyH', 'h'),
      { kind: 'key', code: 'ShiftLeft', key: 'Shift', down: true },
      ...press('Digit1', '!'),
      { kind: 'key', code: 'ShiftLeft', down: false },
      ...press('Space', ' '),
      ...press('IntlBackslash', '<'),
      ...press('KeyE', 'é'),
    ];
    for (const event of events) input.apply(event);
    assert.deepEqual(calls, ['type h', 'shift down', 'type !', 'shift up', 'type  ', 'type <', 'type é']);
    assert.deepEqual(input.stats, { applied: events.length, ignored: 0, failed: 0 });
  });

  it('keeps Enter, Backspace, arrows, function keys and presses without a key on the key path', () => {
    const { input, calls } = windowsInjector();
    for (const event of [
      ...press('Enter', 'Enter'),
      ...press('Backspace', 'Backspace'),
      ...press('ArrowLeft', 'ArrowLeft'),
      ...press('F5', 'F5'),
      ...press('KeyA'),
    ])
      input.apply(event);
    assert.deepEqual(calls, [
      'enter down',
      'enter up',
      'backspace down',
      'backspace up',
      'left down',
      'left up',
      'f5 down',
      'f5 up',
      'a down',
      'a up',
    ]);
  });

  it('presses shortcuts with Ctrl, Alt or Meta as keys, and a key typed before Ctrl went down is not lifted as a key', () => {
    const { input, calls } = windowsInjector();
    for (const event of [
      { kind: 'key', code: 'ControlLeft', key: 'Control', down: true },
      ...press('KeyS', 's'),
      { kind: 'key', code: 'ControlLeft', down: false },
      { kind: 'key', code: 'AltLeft', key: 'Alt', down: true },
      ...press('KeyF', 'f'),
      { kind: 'key', code: 'AltLeft', down: false },
      { kind: 'key', code: 'KeyX', key: 'x', down: true },
      { kind: 'key', code: 'ControlRight', key: 'Control', down: true },
      { kind: 'key', code: 'KeyX', down: false },
      { kind: 'key', code: 'ControlRight', down: false },
    ] satisfies InputEvent[])
      input.apply(event);
    assert.deepEqual(calls, [
      'control down',
      's down',
      's up',
      'control up',
      'alt down',
      'f down',
      'f up',
      'alt up',
      'type x',
      'right_control down',
      'right_control up',
    ]);
  });

  it('a typed key held when control ends is not lifted by releaseAll', () => {
    const { input, calls } = windowsInjector();
    input.apply({ kind: 'key', code: 'KeyQ', key: 'q', down: true });
    input.apply({ kind: 'key', code: 'ShiftLeft', key: 'Shift', down: true });
    input.releaseAll();
    assert.deepEqual(calls, ['type q', 'shift down', 'shift up']);
  });

  it('on Linux a printable key stays a key press', () => {
    const { robot, calls } = recordingRobot();
    const input = createInputInjector({
      screen: () => ({ width: WIDTH, height: HEIGHT }),
      platform: createLinuxPlatform({ DISPLAY: ':99' }),
      robot,
    });
    for (const event of press('KeyA', 'a')) input.apply(event);
    assert.deepEqual(calls, ['a down', 'a up']);
  });
});
