import { Store } from './store.ts';

/** File work that runs on its own once started: a single transfer or a whole action. */
export interface ListedWork<S extends { id: number }> {
  readonly state: S;
  subscribe(listener: (state: S) => void): () => void;
  start(): void;
  cancel(): void;
  /** Pauses it; `proceed` continues it from where it stopped. */
  hold(): void;
  proceed(): void;
  /** Stops it with `reason`. */
  abort(reason: string): void;
  /** The connection dropped or the agent went away: it pauses until `resume`. */
  interrupt(): void;
  resume(): void;
  dispose(): void;
}

export interface WorkListState<S> {
  /** Newest last. */
  items: S[];
}

/**
 * The file manager's list of work under way (transfers, whole actions): starts each, passes on the
 * operator's Cancel, Pause and Continue, pauses everything when the connection drops and resumes it
 * when it is back, and takes an ended item off the list on Dismiss.
 */
export abstract class WorkList<S extends { id: number }, W extends ListedWork<S>> extends Store<
  WorkListState<S>
> {
  readonly #work = new Map<number, W>();
  #nextId = 1;

  constructor() {
    super({ items: [] });
  }

  /** Whether an item is over, so Dismiss may take it off the list. */
  protected abstract isOver(state: S): boolean;

  /** The id for the next item. */
  protected nextId(): number {
    return this.#nextId++;
  }

  protected item(id: number): W | undefined {
    return this.#work.get(id);
  }

  /** Lists `work`, starts it and returns its id; `onState` hears each of its changes first. */
  protected add(work: W, onState?: (state: S) => void): number {
    const id = work.state.id;
    this.#work.set(id, work);
    work.subscribe((state) => {
      onState?.(state);
      this.#publish();
    });
    work.start();
    this.#publish();
    return id;
  }

  cancel(id: number): void {
    this.#work.get(id)?.cancel();
  }

  /** Pauses an item under way; {@link proceed} continues it from where it stopped. */
  hold(id: number): void {
    this.#work.get(id)?.hold();
  }

  proceed(id: number): void {
    this.#work.get(id)?.proceed();
  }

  /** Takes an item that is over (finished, failed or cancelled) off the list. */
  dismiss(id: number): void {
    const work = this.#work.get(id);
    if (!work || !this.isOver(work.state)) return;
    this.#work.delete(id);
    work.dispose();
    this.#publish();
  }

  /** Stops everything under way with `reason`. */
  abortAll(reason: string): void {
    for (const work of this.#work.values()) work.abort(reason);
  }

  /** The connection dropped or the agent went away: everything under way pauses. */
  interruptAll(): void {
    for (const work of this.#work.values()) work.interrupt();
  }

  /** The connection and the agent are back: paused items continue where they stopped. */
  resumeAll(): void {
    for (const work of this.#work.values()) work.resume();
  }

  #publish(): void {
    this.update({ items: [...this.#work.values()].map((work) => work.state) });
  }
}
