/**
 * Channels carry the streams of one session beside its video: interactive shells, commands run by
 * scripts, and file transfers. Each has a u32 id chosen by the operator side that opens it. The
 * relay gives every operator connection a `slot` (in its `welcome`); the high 16 bits of each id
 * an operator opens must be that slot, so the relay routes the agent's answers by `slotOf(id)`
 * without keeping a table, and one operator can neither collide with nor read another's channels.
 */

/** Highest slot the relay hands out; slot 0 is never used, so a zero id is always invalid. */
export const MAX_SLOT = 0xffff;

/** Builds a channel id from an operator's slot and a number of its own (1..65535). */
export function channelId(slot: number, local: number): number {
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT) throw new RangeError(`invalid slot ${slot}`);
  if (!Number.isInteger(local) || local < 1 || local > 0xffff)
    throw new RangeError(`invalid local id ${local}`);
  return ((slot << 16) | local) >>> 0;
}

/** The slot of the operator connection that owns a channel id. */
export function slotOf(channel: number): number {
  return channel >>> 16;
}

/**
 * Hands out channel ids for one operator connection, skipping ids still in use.
 *
 * @example
 * const ids = new ChannelIds(welcome.slot);
 * const channel = ids.next();
 */
export class ChannelIds {
  private last = 0;
  private readonly used = new Set<number>();

  constructor(private readonly slot: number) {
    channelId(slot, 1); // validates the slot
  }

  next(): number {
    for (let tries = 0; tries < 0xffff; tries++) {
      this.last = (this.last % 0xffff) + 1;
      const id = channelId(this.slot, this.last);
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    throw new RangeError('every channel id of this slot is in use');
  }

  release(id: number): void {
    this.used.delete(id);
  }
}

/** Which stream of a channel a shell-data frame belongs to. */
export const ShellStream = {
  /** An interactive terminal: keystrokes in, screen output out. */
  terminal: 0,
  /** A command's standard output. */
  stdout: 1,
  /** A command's standard error. */
  stderr: 2,
} as const;

export type ShellStreamId = (typeof ShellStream)[keyof typeof ShellStream];

/** File chunks are at most this long, in bytes. */
export const FILE_CHUNK_BYTES = 64 * 1024;
/**
 * A sender keeps at most this many bytes of a transfer unacknowledged, in bytes, so a file crosses
 * the relay at the speed of its slowest link instead of piling up in the relay's queues.
 */
export const FILE_WINDOW_BYTES = 1024 * 1024;
/** The receiver acknowledges at least every this many bytes, in bytes. */
export const FILE_ACK_EVERY_BYTES = 256 * 1024;
/** Largest entry count in one `file-listing`; longer folders are paged with `offset`. */
export const MAX_LISTING_ENTRIES = 300;
/** Chat messages the relay keeps per session and replays to an operator who joins later. */
export const CHAT_HISTORY_MESSAGES = 200;
/** Longest chat message, in characters. */
export const MAX_CHAT_CHARS = 4000;
/**
 * Longest clipboard text shared either way, in UTF-16 code units (JavaScript's string length). Even
 * at six bytes each (control characters escaped in JSON) it fits one control message (64 KiB).
 */
export const MAX_CLIPBOARD_CHARS = 10_000;
/** Most monitors an agent reports. */
export const MAX_MONITORS = 16;
/** Longest command line a script may run, in characters. */
export const MAX_COMMAND_CHARS = 8192;
/** Default and largest output a command may produce before it is stopped, in bytes. */
export const DEFAULT_EXEC_OUTPUT_BYTES = 1024 * 1024;
export const MAX_EXEC_OUTPUT_BYTES = 64 * 1024 * 1024;
/** Default and longest time a command may run, in milliseconds. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
export const MAX_EXEC_TIMEOUT_MS = 60 * 60_000;
