import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'preact/hooks';
import type { TerminalSession } from '../../tools/terminal-session.ts';
import { useObservedState } from '../hooks.ts';
import { IconRefresh } from '../icons.tsx';
import { installCspSafeStyles, releaseDetachedStyles } from './xterm-csp-styles.ts';

/** Lines of output a terminal keeps for scrolling back. */
const SCROLLBACK_LINES = 5000;

const THEME = {
  background: '#05080f',
  foreground: '#e2e8f0',
  cursor: '#93c5fd',
  selectionBackground: '#1e3a8a',
};

/** DEC private mode 25: hide and show the text cursor. */
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Bytes as xterm.js hands them to `onBinary`: one character per byte. */
function latin1(data: string): Uint8Array {
  return Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff);
}

export interface TerminalPaneProps {
  session: TerminalSession;
  /** The tab is the one showing (xterm.js can only measure itself when it is). */
  visible: boolean;
  /** The user allows the shell right now. */
  usable: boolean;
}

/**
 * One xterm.js terminal bound to one {@link TerminalSession}: opens the shell at the size the
 * terminal fits, sends keystrokes and resizes, writes output, and offers Reopen once it ended.
 */
export function TerminalPane({ session, visible, usable }: TerminalPaneProps) {
  const state = useObservedState(session);
  const hostRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<{ term: Terminal; fit: FitAddon } | null>(null);

  const refit = () => {
    const host = hostRef.current;
    const bound = termRef.current;
    if (!host || !bound || host.clientWidth === 0 || host.clientHeight === 0) return;
    bound.fit.fit();
  };

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    installCspSafeStyles();
    const term = new Terminal({
      fontFamily: '"DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace',
      fontSize: 13,
      cursorBlink: true,
      scrollback: SCROLLBACK_LINES,
      theme: THEME,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(host);
    termRef.current = { term, fit };
    const subscriptions = [
      term.onData((data) => session.input(data)),
      term.onBinary((data) => session.input(latin1(data))),
      term.onResize(({ cols, rows }) => session.resize(cols, rows)),
    ];
    const detach = session.attach((bytes) => term.write(bytes));
    const observer = new ResizeObserver(() => refit());
    observer.observe(host);
    return () => {
      observer.disconnect();
      for (const subscription of subscriptions) subscription.dispose();
      detach();
      termRef.current = null;
      term.dispose();
      releaseDetachedStyles();
    };
  }, [session]);

  useEffect(() => {
    const bound = termRef.current;
    if (!visible || !bound) return;
    refit();
    if (usable && session.state.status === 'idle') session.open(bound.term.cols, bound.term.rows);
    bound.term.focus();
  }, [visible, usable, session]);

  const ended = state.status === 'exited' || state.status === 'closed';
  useEffect(() => {
    // A shell that ended takes no keys; its cursor should not blink as if it did.
    if (ended) termRef.current?.term.write(HIDE_CURSOR);
  }, [ended]);

  const reopen = () => {
    const bound = termRef.current;
    if (!bound) return;
    bound.term.write(`\r\n\x1b[2m── new shell ──\x1b[0m\r\n${SHOW_CURSOR}`);
    refit();
    session.open(bound.term.cols, bound.term.rows);
    bound.term.focus();
  };

  return (
    <div
      class="terminal-pane"
      hidden={!visible}
      data-testid="terminal-pane"
      data-status={state.status}
      data-shell-id={state.id}
    >
      <div class="terminal-pane__screen" ref={hostRef} data-testid="terminal-screen" />
      {ended && (
        <div class="terminal-pane__ended" role="status">
          <span data-testid="terminal-ended">{state.ended}</span>
          <button
            type="button"
            class="btn btn--dark btn--small"
            data-testid="terminal-reopen"
            disabled={!usable}
            title={usable ? 'Start a new shell in this tab' : 'The user has not allowed shell access'}
            onClick={reopen}
          >
            <IconRefresh size={14} /> Reopen
          </button>
        </div>
      )}
    </div>
  );
}
