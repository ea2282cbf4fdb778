import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { recordings, sessions } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { SessionRecorder } from './session-recorder.ts';

/** The recordings folder's name inside the data directory. */
export const RECORDINGS_FOLDER = 'recordings';
/** A recording file's extension. */
export const RECORDING_EXTENSION = '.llrec';

export type RecordingRow = typeof recordings.$inferSelect;

/**
 * Where session recordings live: their files under `<dataDir>/recordings/` (mode 0600, the folder
 * 0700) and their rows in the `recordings` table.
 */
export class Recordings {
  readonly dir: string;

  constructor(
    private readonly db: Database,
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.dir = join(dataDir, RECORDINGS_FOLDER);
  }

  /**
   * Creates a session's recording file and returns its recorder, which takes nothing until
   * `begin()` (at consent). Rejects when the file cannot be created: the session must not go on.
   */
  async open(sessionId: string, onFailure: (error: unknown) => void): Promise<SessionRecorder> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const fileName = `${sessionId}${RECORDING_EXTENSION}`;
    const handle = await open(this.path(fileName), 'w', 0o600);
    return new SessionRecorder({
      sessionId,
      handle,
      onBegin: async (startedAt) => {
        await this.db
          .insert(recordings)
          .values({ sessionId, fileName, startedAt })
          .onConflictDoUpdate({ target: recordings.sessionId, set: { fileName, startedAt, endedAt: null } });
      },
      onFailure,
    });
  }

  /** Closes a session's recorder and writes its totals; a recording that never began is deleted. */
  async finish(sessionId: string, recorder: SessionRecorder): Promise<void> {
    const stats = await recorder.close();
    const fileName = `${sessionId}${RECORDING_EXTENSION}`;
    if (!stats) {
      await rm(this.path(fileName), { force: true });
      return;
    }
    await this.db
      .update(recordings)
      .set({ ...stats, endedAt: new Date() })
      .where(eq(recordings.sessionId, sessionId));
  }

  /**
   * Closes the rows of recordings whose session ended without the relay finishing them (the server
   * stopped abruptly): their size is the file's, their frame counts stay unknown (0). Returns how many.
   */
  async finishOrphans(): Promise<number> {
    const open = await this.db
      .select({ sessionId: recordings.sessionId, fileName: recordings.fileName, endedAt: sessions.endedAt })
      .from(recordings)
      .innerJoin(sessions, eq(sessions.id, recordings.sessionId))
      .where(and(isNull(recordings.endedAt), eq(sessions.status, 'ended')));
    for (const row of open) {
      const bytes = await stat(this.path(row.fileName)).then(
        (info) => info.size,
        () => 0,
      );
      await this.db
        .update(recordings)
        .set({ bytes, endedAt: row.endedAt ?? new Date() })
        .where(eq(recordings.sessionId, row.sessionId));
    }
    return open.length;
  }

  /** A session's recording, if it has one. */
  async get(sessionId: string): Promise<RecordingRow | undefined> {
    const [row] = await this.db.select().from(recordings).where(eq(recordings.sessionId, sessionId)).limit(1);
    return row;
  }

  /** The absolute path of a recording file. */
  path(fileName: string): string {
    return join(this.dir, fileName);
  }

  /** Deletes recordings (files and rows) started before `cutoff`. Returns how many went. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    const old = await this.db
      .select({ sessionId: recordings.sessionId, fileName: recordings.fileName })
      .from(recordings)
      .where(lt(recordings.startedAt, cutoff));
    for (const row of old) {
      await rm(this.path(row.fileName), { force: true });
      await this.db.delete(recordings).where(eq(recordings.sessionId, row.sessionId));
      this.logger.info({ sessionId: row.sessionId }, 'recording deleted by retention');
    }
    return old.length;
  }
}
