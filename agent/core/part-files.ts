import { isChannelFailure } from './channel-failure.ts';
import type { FileHost } from './ports.ts';

/**
 * The `.lifeline-part` files of this session's uploads. A cancelled upload keeps its part so the
 * operator can resume it; when the session ends every part it left is deleted. One upload at a time
 * may write a given part. A part counts as this session's only once an upload opened it for writing:
 * an upload refused before that (the name is a folder, a link, not writable) leaves whatever has
 * that name alone, also when the session ends.
 */
export class PartFiles {
  private readonly left = new Set<string>();
  private readonly busy = new Set<string>();

  /** Takes `part` for one upload; false while another upload writes it. */
  claim(part: string): boolean {
    if (this.busy.has(part)) return false;
    this.busy.add(part);
    return true;
  }

  /** The upload that claimed `part` opened it for writing: it is deleted when the session ends unless completed. */
  opened(part: string): void {
    this.left.add(part);
  }

  /** The upload stopped writing `part` (finished, failed or cancelled). */
  release(part: string): void {
    this.busy.delete(part);
  }

  /** `part` is gone: renamed over its target or deleted. */
  forget(part: string): void {
    this.left.delete(part);
  }

  /** Deletes every part this session left; returns the wire paths that could not be deleted. */
  async removeAll(files: FileHost): Promise<string[]> {
    const failed: string[] = [];
    for (const part of this.left) {
      try {
        await files.remove(part);
      } catch (error) {
        if (!isChannelFailure(error, 'FILE_NOT_FOUND')) failed.push(part);
      }
    }
    this.left.clear();
    return failed;
  }
}
