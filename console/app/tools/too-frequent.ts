import { isRelayLinkError, type MessageOf } from '../../../protocol/index.ts';

/** How long a request the relay turned away as too frequent waits before it is sent again, in ms. */
export const TOO_FREQUENT_PAUSE_MS = 1_000;

/**
 * Whether the relay turned a request away for coming too fast (the operator's per-connection
 * budget): it never reached the device, so it is sent again after {@link waitBeforeAgain}. Takes the
 * `channel-error` itself (a transfer reads its channel's messages) or the error a request rejected with.
 */
export function isTooFrequent(answer: unknown): boolean {
  if (isRelayLinkError(answer, 'channel-error')) return answer.code === 'TOO_FREQUENT';
  const message = answer as Partial<MessageOf<'channel-error'>> | null;
  return typeof message === 'object' && message?.type === 'channel-error' && message.code === 'TOO_FREQUENT';
}

/**
 * Resolves after {@link TOO_FREQUENT_PAUSE_MS} (the budget refills meanwhile), or rejects with the
 * signal's reason once it aborts.
 * @example
 * if (isTooFrequent(error)) { await waitBeforeAgain(signal); continue; }
 */
export function waitBeforeAgain(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, TOO_FREQUENT_PAUSE_MS);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
