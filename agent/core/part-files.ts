import { isChannelFailure } from './channel-failure.ts';
import type { FileHost } from './ports.ts';

/**
 * The `.lifeline-part` files of this session's uploads. A cancelled upload keeps its part so the
 * operator can resume it; when the session ends every part it left is deleted. One upload at a time
 * may write a given part.
 */
export class PartFiles {
  private readonly left = new Set<string>();
  private readonly busy = new Set<string>();

  /** Takes `part` for one upload; false while another upload writes it. */
  claim(part: string): boolean {
    if (this.busy.has(part)) return false;
    this.busy.add(part);
    this.left.add(part);
    return true;
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
