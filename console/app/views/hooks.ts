import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, isApiCallError } from '../api/client.ts';
import { hashOf, type Location, parseHash } from '../navigation.ts';
import type { SessionController } from '../session/session-controller.ts';
import type { SessionState } from '../session/session-state.ts';

/** Calls `callback` every `ms` while mounted (and not at all when `ms` is null). */
export function useInterval(callback: () => void, ms: number | null): void {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => latest.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/** Whole seconds left until `until` (ms since the epoch), re-rendering as it counts; 0 when past. */
export function useCountdown(until: number | null): number {
  // Computed on every render so the first render after `until` is set already shows it.
  const seconds = until === null ? 0 : Math.max(0, Math.ceil((until - Date.now()) / 1000));
  const [, setTick] = useState(0);
  useEffect(() => {
    if (until === null) return;
    const timer = setInterval(() => {
      setTick((tick) => tick + 1);
      if (Date.now() >= until) clearInterval(timer);
    }, 250);
    return () => clearInterval(timer);
  }, [until]);
  return seconds;
}

/** The content-box size of an element, kept current with a ResizeObserver; null before layout. */
export function useElementSize(ref: RefObject<HTMLElement | null>): { width: number; height: number } | null {
  const [size, setSize] = useState<{ width: number; height: number } | null>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver((entries) => {
      const box = entries[0]?.contentRect;
      if (box) setSize({ width: box.width, height: box.height });
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}

/** Something with a current state and change notifications, such as the session and invite controllers. */
export interface Observable<T> {
  readonly state: T;
  subscribe(listener: (state: T) => void): () => void;
}

/** The observable's state, re-rendering on every change. */
export function useObservedState<T>(source: Observable<T>): T {
  const [state, setState] = useState(source.state);
  useEffect(() => {
    setState(source.state);
    return source.subscribe(setState);
  }, [source]);
  return state;
}

/**
 * The controller's state, re-rendering once per burst of changes: a render waits for the tasks
 * already queued. A joining console gets welcome, consent, monitors, video-config, the cursor and the
 * participants from the relay at once, then its first keyframe; rendering the session view after
 * each of them kept the keyframe from the decoder for as many renders on the main thread.
 */
export function useSessionState(controller: SessionController): SessionState {
  const [state, setState] = useState(controller.state);
  useEffect(() => {
    setState(controller.state);
    let pending: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = controller.subscribe(() => {
      pending ??= setTimeout(() => {
        pending = undefined;
        setState(controller.state);
      }, 0);
    });
    return () => {
      clearTimeout(pending);
      unsubscribe();
    };
  }, [controller]);
  return state;
}

/**
 * The console's location in the URL's hash, kept in step with Back and Forward; `navigate` adds a
 * history entry.
 */
export function useHashLocation(): [Location, (next: Location) => void] {
  const [location, setLocation] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setLocation(parseHash(window.location.hash));
    window.addEventListener('popstate', onChange);
    window.addEventListener('hashchange', onChange);
    return () => {
      window.removeEventListener('popstate', onChange);
      window.removeEventListener('hashchange', onChange);
    };
  }, []);
  const navigate = (next: Location) => {
    const hash = hashOf(next);
    if (hash !== window.location.hash) {
      history.pushState(null, '', hash || `${window.location.pathname}${window.location.search}`);
    }
    setLocation(next);
  };
  return [location, navigate];
}

/**
 * Names the page showing in `body[data-view]`, for CSS and for the end-to-end tests: null removes
 * the name, undefined leaves it to a component further down.
 */
export function useBodyView(view: string | null | undefined): void {
  useEffect(() => {
    if (view === undefined) return;
    if (view) document.body.setAttribute('data-view', view);
    else document.body.removeAttribute('data-view');
  }, [view]);
}

/**
 * Something loaded from the API: the data, the failure, and `reload`. Keeps the last data while
 * reloading, so lists do not flash empty.
 */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const reload = async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine !== generation.current) return;
      setData(value);
      setError(null);
    } catch (caught) {
      if (mine !== generation.current) return;
      setError(caught instanceof Error ? caught.message : 'It could not be loaded.');
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => {
    void reload();
  }, deps);
  return { data, error, loading, reload, setData };
}

/**
 * One request at a time from a form or a button: `run` marks it `busy`, clears `error`, and shows a
 * failure as `errorText(caught, fallback)`, then hands it to `onFailure` (which may change the error or
 * the form); `setError` shows a problem found before asking. `initialError` is shown until the first run.
 * @example
 * const { busy, error, run } = useAction();
 * const save = () => run(async () => onSaved(await saveThing()), 'The thing could not be saved.');
 */
export function useAction(initialError: string | null = null) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(initialError);
  const run = async (
    action: () => Promise<void>,
    fallback: string,
    onFailure?: (caught: unknown) => void,
  ): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(errorText(caught, fallback));
      onFailure?.(caught);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

/** How long a form waits when the server says TOO_FREQUENT without saying how long, in seconds. */
const DEFAULT_RETRY_AFTER_S = 30;

/**
 * A form the server may tell to wait (TOO_FREQUENT, with `retryAfterSeconds`): `lockOn(caught)` locks
 * it when the failure says so, `secondsLeft` counts down to 0, `unlock` ends the wait at once.
 * @example
 * const lockout = useLockout();
 * run(() => signIn(), 'Sign-in failed.', lockout.lockOn);
 */
export function useLockout() {
  const [until, setUntil] = useState<number | null>(null);
  const secondsLeft = useCountdown(until);
  const lockOn = (caught: unknown) => {
    if (isApiCallError(caught) && caught.kind === 'TOO_FREQUENT') {
      setUntil(Date.now() + (caught.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_S) * 1000);
    }
  };
  return { secondsLeft, lockOn, unlock: () => setUntil(null) };
}
