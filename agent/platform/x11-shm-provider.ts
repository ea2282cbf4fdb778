import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { ShmProvider } from 'x11';

/** Where the segments' files are made: a tmpfs, so they are memory and not disk. */
const SHM_DIR = '/dev/shm';

/** An MIT-SHM segment provider that also tells which file descriptor backs a segment. */
export interface SharedSegmentProvider extends ShmProvider {
  /** The descriptor of the segment whose `buffer` this is (another process opens `/proc/<pid>/fd/<fd>`). */
  fdOf(buffer: Buffer): number | undefined;
}

let made = 0;

/**
 * The x11 package's own provider (`x11/lib/shm-provider.js`: a file on /dev/shm, unlinked at once,
 * its descriptor passed to the X server, read with positional reads), except that it remembers each
 * segment's descriptor: `lifeline-x264` maps the same memory and reads the rows the X server copied
 * there, so a 1080p picture need not be read back into the agent and written down a pipe.
 *
 * @example
 * const shm = sharedSegmentProvider();
 * const connection = await openX11(':99', { shm });
 * // … Shm.createSegment(bytes, (error, segment) => shm.fdOf(segment.buffer))
 */
export function sharedSegmentProvider(): SharedSegmentProvider {
  const fds = new WeakMap<Buffer, number>();
  return {
    flavor: 'fd',
    zeroCopy: false,
    create(size) {
      if (!(size > 0)) throw new Error('a shared memory segment needs a positive size');
      // /dev/shm is shared by every user: a name nobody can guess, made only if it does not exist
      // (never through a link someone else left there).
      const path = `${SHM_DIR}/lifeline-x11-shm-${process.pid}-${made++}-${randomBytes(8).toString('hex')}`;
      const fd = openSync(path, 'wx+', 0o600);
      try {
        ftruncateSync(fd, size);
        // Anonymous from here on: it lives as long as a descriptor or a mapping holds it.
        unlinkSync(path);
      } catch (error) {
        closeSync(fd);
        throw error;
      }
      const buffer = Buffer.alloc(size);
      fds.set(buffer, fd);
      return { size, fd, buffer };
    },
    commit(segment, offset = 0, length = segment.size - offset) {
      if (length > 0) writeSync(segment.fd, segment.buffer, offset, length, offset);
    },
    sync(segment, offset = 0, length = segment.size - offset) {
      if (length > 0) readSync(segment.fd, segment.buffer, offset, length, offset);
    },
    destroy(segment) {
      if (segment.fd === null) return;
      try {
        closeSync(segment.fd);
      } catch {
        // Already closed: nothing to release.
      }
      segment.fd = null;
    },
    fdOf: (buffer) => fds.get(buffer),
  };
}
