import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
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

/** The controller's state, re-rendering on every change. */
export function useSessionState(controller: SessionController): SessionState {
  const [state, setState] = useState(controller.state);
  useEffect(() => {
    setState(controller.state);
    return controller.subscribe(setState);
  }, [controller]);
  return state;
}
