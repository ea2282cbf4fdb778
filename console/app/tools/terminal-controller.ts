import type { ChannelPort } from './operator-channels.ts';
import { Store } from './store.ts';
import { TerminalSession } from './terminal-session.ts';

/** Shells one operator may have open at once in one session view. */
export const MAX_TERMINALS = 8;

export interface TerminalTabsState {
  tabs: TerminalSession[];
  /** The tab showing; null when there are none. */
  active: number | null;
}

/**
 * The terminal panel's tabs: one {@link TerminalSession} each, added, switched and closed by the
 * operator, all cut off together when the user revokes the shell or the connection drops.
 * @example
 * const tab = terminals.add(); // the view opens it once xterm knows its size
 */
export class TerminalController extends Store<TerminalTabsState> {
  readonly #port: ChannelPort;
  #nextId = 1;

  constructor(port: ChannelPort) {
    super({ tabs: [], active: null });
    this.#port = port;
  }

  /** Adds a tab (its shell opens when its terminal is on screen); undefined at the limit. */
  add(): TerminalSession | undefined {
    if (this.state.tabs.length >= MAX_TERMINALS) return undefined;
    const session = new TerminalSession(this.#port, this.#nextId++);
    this.update({ tabs: [...this.state.tabs, session], active: session.state.id });
    return session;
  }

  select(id: number): void {
    if (this.state.tabs.some((tab) => tab.state.id === id)) this.update({ active: id });
  }

  /** Closes the tab's shell and removes the tab. */
  remove(id: number): void {
    const index = this.state.tabs.findIndex((tab) => tab.state.id === id);
    if (index < 0) return;
    this.state.tabs[index]?.close();
    const tabs = this.state.tabs.filter((tab) => tab.state.id !== id);
    const active =
      this.state.active === id
        ? (tabs[Math.min(index, tabs.length - 1)]?.state.id ?? null)
        : this.state.active;
    this.update({ tabs, active });
  }

  /** Ends every shell with `reason`; `abandoned` when the agent may still hold them (it left). */
  cutOffAll(reason: string, abandoned = false): void {
    for (const tab of this.state.tabs) tab.cutOff(reason, abandoned);
  }
}
