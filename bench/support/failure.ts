/**
 * Something the benchmark measures does not work (no picture, input lost, memory unbounded): the
 * run stops with a non-zero exit. A slow figure is never one of these.
 */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Throws a `BenchFailure` with `message` unless `condition` holds. */
export function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new BenchFailure(message);
}
