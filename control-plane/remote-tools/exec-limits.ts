import { ApiError } from '../http/problem.ts';

/** Seconds a client refused for load is told to wait before it tries again. */
const RETRY_AFTER_SECONDS = 5;

/** What is held for one running command until it ends: `release` it once, however it ends. */
export interface ExecSlot {
  /** The most output this command may return, in bytes: what the caller asked for, at most the cap. */
  maxOutputBytes: number;
  release(): void;
}

/**
 * Bounds what commands run over the API hold on the server: each returns at most `maxOutputBytes`
 * (a hard cap over what the caller asks), all of them together reserve at most `budgetBytes` of
 * output, and a session runs at most `perSession` of them at once. Past a bound the call is
 * refused with 429 TOO_FREQUENT before anything runs.
 */
export class ExecLimits {
  private reserved = 0;
  private readonly running = new Map<string, number>();

  constructor(private readonly limits: { maxOutputBytes: number; budgetBytes: number; perSession: number }) {}

  /** Reserves room for one command in `sessionId` asking for `requestedBytes` of output. */
  acquire(sessionId: string, requestedBytes: number): ExecSlot {
    const maxOutputBytes = Math.min(requestedBytes, this.limits.maxOutputBytes);
    const running = this.running.get(sessionId) ?? 0;
    const retry = { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } };
    if (running >= this.limits.perSession) {
      throw new ApiError(
        429,
        'TOO_FREQUENT',
        `This session already runs ${running} commands over the API, the most allowed at once. Wait for one to finish.`,
        retry,
      );
    }
    if (this.reserved + maxOutputBytes > this.limits.budgetBytes) {
      throw new ApiError(
        429,
        'TOO_FREQUENT',
        'The server holds as much command output as it may right now. Retry shortly, or ask for less with maxOutputBytes.',
        retry,
      );
    }
    this.reserved += maxOutputBytes;
    this.running.set(sessionId, running + 1);
    let released = false;
    return {
      maxOutputBytes,
      release: () => {
        if (released) return;
        released = true;
        this.reserved -= maxOutputBytes;
        const left = (this.running.get(sessionId) ?? 1) - 1;
        if (left > 0) this.running.set(sessionId, left);
        else this.running.delete(sessionId);
      },
    };
  }
}
