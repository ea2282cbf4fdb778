import { type ControlMessage, NO_PERMISSIONS, type Permissions } from '../../../protocol/index.ts';
import { Store } from './store.ts';

/** What can be asked for from a panel or the control button. */
export type AskableCapability = 'chat' | 'shell' | 'files' | 'clipboard' | 'control';

/**
 * Where a request for one capability stands: not asked, waiting for the user's answer, refused by
 * them, or not sent because this console asked a moment ago (the relay takes one request per 10 s).
 */
export type AccessAsk = 'idle' | 'waiting' | 'refused' | 'too-soon';

export type AccessState = Record<AskableCapability, AccessAsk>;

/** The relay passes on at most one request per connection per this interval, in milliseconds. */
export const ASK_INTERVAL_MS = 10_000;

const IDLE: AccessState = {
  chat: 'idle',
  shell: 'idle',
  files: 'idle',
  clipboard: 'idle',
  control: 'idle',
};

/**
 * The operator asking the end user for a capability they have not allowed (`permission-request`).
 * The next `permissions` message is the answer: what it grants enables the panel, what it does not
 * is shown as refused.
 * @example
 * access.ask('files'); // state.files === 'waiting' until the user answers
 */
export class AccessRequests extends Store<AccessState> {
  #lastAskAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly send: (message: ControlMessage) => boolean,
    private readonly now: () => number = Date.now,
  ) {
    super({ ...IDLE });
  }

  /** Asks the user for `capability`; false when nothing was sent (waiting, too soon, or offline). */
  ask(capability: AskableCapability): boolean {
    if (this.state[capability] === 'waiting') return false;
    if (this.now() - this.#lastAskAt < ASK_INTERVAL_MS) {
      this.update({ [capability]: 'too-soon' });
      return false;
    }
    const requested: Permissions = { ...NO_PERMISSIONS, [capability]: true };
    if (!this.send({ type: 'permission-request', requested })) return false;
    this.#lastAskAt = this.now();
    this.update({ [capability]: 'waiting' });
    return true;
  }

  /** The user's permissions arrived: every request waiting is answered by them. */
  answered(permissions: Permissions): void {
    const next: Partial<AccessState> = {};
    for (const capability of Object.keys(this.state) as AskableCapability[]) {
      if (permissions[capability]) {
        if (this.state[capability] !== 'idle') next[capability] = 'idle';
      } else if (this.state[capability] === 'waiting') next[capability] = 'refused';
    }
    if (Object.keys(next).length > 0) this.update(next);
  }

  /** The connection is gone: nothing is waiting on it any more. */
  reset(): void {
    this.update({ ...IDLE });
  }
}
