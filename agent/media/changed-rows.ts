import { Buffer } from 'node:buffer';

/** A band of whole rows of a frame: `first` up to `end`, exclusive. */
export interface RowBand {
  first: number;
  end: number;
}

/**
 * The band of rows in which `next` differs from `previous` (two frames of `rowBytes`-byte rows), or
 * undefined when they are equal. Reads from the top down to the first changed row and from the bottom
 * up to the last, so a small change costs about one comparison of the frame, as `equals` would.
 *
 * @example
 * const band = changedRows(lastFrame, frame, width * 4); // { first: 120, end: 133 }: a line of text
 */
export function changedRows(previous: Uint8Array, next: Uint8Array, rowBytes: number): RowBand | undefined {
  const rows = Math.floor(next.byteLength / rowBytes);
  if (previous.byteLength !== next.byteLength) return { first: 0, end: rows };
  const differs = (row: number) => {
    const start = row * rowBytes;
    return (
      Buffer.compare(previous.subarray(start, start + rowBytes), next.subarray(start, start + rowBytes)) !== 0
    );
  };
  let first = 0;
  while (first < rows && !differs(first)) first++;
  if (first === rows) return undefined;
  let end = rows;
  while (end - 1 > first && !differs(end - 1)) end--;
  return { first, end };
}
