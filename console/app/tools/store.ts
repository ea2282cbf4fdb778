type Listener<T> = (state: T) => void;

/**
 * A piece of state with change notifications, the shape the views' `useObservedState` reads.
 * Tools extend it and call {@link Store.update} with each change.
 */
export class Store<T extends object> {
  #state: T;
  readonly #listeners = new Set<Listener<T>>();

  constructor(initial: T) {
    this.#state = initial;
  }

  get state(): T {
    return this.#state;
  }

  subscribe(listener: Listener<T>): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  protected update(patch: Partial<T>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
