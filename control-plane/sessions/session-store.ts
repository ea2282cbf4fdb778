import { createHmac, randomInt, randomUUID } from 'node:crypto';
import { and, desc, eq, gt, isNull, lt, ne, or } from 'drizzle-orm';
import {
  CONNECTION_CODE_DIGITS,
  type Permissions,
  type Policy,
  type SessionAccess,
} from '../../protocol/index.ts';
import type { Database } from '../db/client.ts';
import { type AgentInfo, type SessionStatus, sessions } from '../db/schema.ts';

export type SessionRow = typeof sessions.$inferSelect;

export interface NewSession {
  agentInfo: AgentInfo | null;
  node: string | null;
  organisationId: string;
  deviceGroupId: string;
  policy: Policy;
  initiator: 'agent' | 'operator';
  createdById: string | null;
  /** A session opened on a resident device by order, and how it reaches it. */
  device?: { id: string; access: SessionAccess };
}

export type RedeemResult =
  | { ok: true; session: SessionRow }
  | { ok: false; code: 'CODE_INVALID' | 'CODE_EXPIRED' | 'CODE_USED' | 'SESSION_ENDED' };

/**
 * How a session looks in the API. `agentAway` says the relay holds the session but its agent's
 * connection is gone (it waits out its grace period): the agent is then not reported connected.
 */
export function sessionView(row: SessionRow, agentAway = false) {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    activatedAt: row.activatedAt?.toISOString() ?? null,
    endedAt: row.endedAt?.toISOString() ?? null,
    endReason: row.endReason,
    codeExpiresAt: row.codeExpiresAt?.toISOString() ?? null,
    agent: row.agentInfo ?? null,
    agentConnected: row.agentConnectedAt !== null && row.status !== 'ended' && !agentAway,
    operatorId: row.operatorId,
    organisationId: row.organisationId,
    deviceGroupId: row.deviceGroupId,
    initiator: row.initiator,
    policy: (row.policy ?? null) as Policy | null,
    deviceId: row.deviceId,
    access: row.access,
  };
}

export type SessionView = ReturnType<typeof sessionView>;

/** Where a page of sessions ends. */
export interface SessionCursor {
  createdAt: number;
  id: string;
}

/** Encodes a cursor as an opaque string for `nextCursor`. */
export function encodeSessionCursor(row: SessionRow): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

/** Decodes a `cursor` parameter; undefined when it is not one of ours. */
export function decodeSessionCursor(cursor: string): SessionCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // Not base64url JSON: refused by the caller.
  }
  return undefined;
}

/**
 * Sessions and their connection codes in the database. A code is kept only as an HMAC under a server
 * secret: a stolen database does not reveal live codes, and a 9-digit code cannot be brute-forced
 * offline without the secret.
 */
export class SessionStore {
  constructor(
    private readonly db: Database,
    private readonly codeSecret: Buffer,
  ) {}

  private drawCode(): string {
    return String(randomInt(0, 10 ** CONNECTION_CODE_DIGITS)).padStart(CONNECTION_CODE_DIGITS, '0');
  }

  hashCode(code: string): string {
    return createHmac('sha256', this.codeSecret).update(code).digest('hex');
  }

  /** Creates a waiting session with a one-time code, valid for the policy's code lifetime. */
  async createWithCode(input: NewSession): Promise<{ session: SessionRow; code: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const code = this.drawCode();
      const now = new Date();
      const rows = await this.db
        .insert(sessions)
        .values({
          id: randomUUID(),
          status: 'waiting',
          codeHash: this.hashCode(code),
          codeExpiresAt: new Date(now.getTime() + input.policy.codeLifetimeMinutes * 60_000),
          createdAt: now,
          agentInfo: input.agentInfo,
          relayNode: input.node,
          organisationId: input.organisationId,
          deviceGroupId: input.deviceGroupId,
          policy: input.policy,
          initiator: input.initiator,
          createdById: input.createdById,
          ...(input.initiator === 'operator' ? { operatorId: input.createdById } : {}),
          ...(input.device ? { deviceId: input.device.id, access: input.device.access } : {}),
        })
        .onConflictDoNothing()
        .returning();
      // A collision with a code still on record: draw again.
      if (rows[0]) return { session: rows[0], code };
    }
    throw new Error('could not allocate a unique connection code');
  }

  /**
   * Creates a waiting user-first session without a connection code, for an invitation: only its
   * link and password open it, and the relay ends it at `expiresAt` if nobody did.
   */
  async createInvited(
    input: Omit<NewSession, 'initiator' | 'createdById'>,
    expiresAt: Date,
  ): Promise<SessionRow> {
    const [row] = await this.db
      .insert(sessions)
      .values({
        id: randomUUID(),
        status: 'waiting',
        codeHash: null,
        codeExpiresAt: expiresAt,
        createdAt: new Date(),
        agentInfo: input.agentInfo,
        relayNode: input.node,
        organisationId: input.organisationId,
        deviceGroupId: input.deviceGroupId,
        policy: input.policy,
        initiator: 'agent',
        createdById: null,
      })
      .returning();
    return row!;
  }

  /**
   * A helper opened the session's invitation: its "code" is redeemed by them, so the relay's expiry
   * timer lets it be. Undefined when the session ended or was opened meanwhile.
   */
  async redeemInvited(id: string, operatorId: string): Promise<SessionRow | undefined> {
    const [row] = await this.db
      .update(sessions)
      .set({ codeRedeemedAt: new Date(), operatorId })
      .where(and(eq(sessions.id, id), isNull(sessions.codeRedeemedAt), ne(sessions.status, 'ended')))
      .returning();
    return row;
  }

  /** Replaces an unused code of a waiting session ("Request new"); the old one stops working. */
  async renewCode(
    id: string,
    lifetimeMs: number,
  ): Promise<{ session: SessionRow; code: string } | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const code = this.drawCode();
      try {
        const [row] = await this.db
          .update(sessions)
          .set({ codeHash: this.hashCode(code), codeExpiresAt: new Date(Date.now() + lifetimeMs) })
          .where(and(eq(sessions.id, id), eq(sessions.status, 'waiting'), isNull(sessions.codeRedeemedAt)))
          .returning();
        return row ? { session: row, code } : undefined;
      } catch {
        // Unique collision with another code: draw again.
      }
    }
    throw new Error('could not allocate a unique connection code');
  }

  /** Pushes an unused code's expiry out ("Extend"). */
  async extendCode(id: string, lifetimeMs: number): Promise<SessionRow | undefined> {
    const [row] = await this.db
      .update(sessions)
      .set({ codeExpiresAt: new Date(Date.now() + lifetimeMs) })
      .where(and(eq(sessions.id, id), eq(sessions.status, 'waiting'), isNull(sessions.codeRedeemedAt)))
      .returning();
    return row;
  }

  /** Records who the agent of a session is, before its socket reaches the relay (operator-first join). */
  async recordAgentInfo(id: string, agentInfo: AgentInfo): Promise<void> {
    await this.db.update(sessions).set({ agentInfo }).where(eq(sessions.id, id));
  }

  /**
   * Links a session the one-shot agent of an enrolled device started to that device (its presence
   * proof matched; control-plane/devices/presence-link.ts). Its access stays null: it is an attended
   * session, not one the device was ordered to open. Only a session linked to no device yet.
   */
  async linkDevice(id: string, deviceId: string): Promise<SessionRow | undefined> {
    const [row] = await this.db
      .update(sessions)
      .set({ deviceId })
      .where(and(eq(sessions.id, id), isNull(sessions.deviceId)))
      .returning();
    return row;
  }

  /** Records that the agent's socket reached this node's relay. */
  async markAgentConnected(id: string, node: string, agentInfo: AgentInfo): Promise<void> {
    await this.db
      .update(sessions)
      .set({ agentConnectedAt: new Date(), relayNode: node, agentInfo })
      .where(eq(sessions.id, id));
  }

  /**
   * Redeems a code, atomically: of two parties racing for one code, one wins and the other is told it
   * was used. A user-first code (the agent registered) is redeemed by an operator; an operator-first
   * code (an operator created the session) is redeemed by the agent.
   */
  async redeem(
    code: string,
    by: { initiator: 'agent' | 'operator'; operatorId?: string },
  ): Promise<RedeemResult> {
    const codeHash = this.hashCode(code);
    const now = new Date();
    const [won] = await this.db
      .update(sessions)
      .set({ codeRedeemedAt: now, ...(by.operatorId ? { operatorId: by.operatorId } : {}) })
      .where(
        and(
          eq(sessions.codeHash, codeHash),
          eq(sessions.initiator, by.initiator),
          isNull(sessions.codeRedeemedAt),
          ne(sessions.status, 'ended'),
        ),
      )
      .returning();
    if (won) {
      if (won.codeExpiresAt && won.codeExpiresAt.getTime() <= now.getTime()) {
        // Expired while waiting: undo the claim so the answer stays CODE_EXPIRED for everyone.
        await this.db
          .update(sessions)
          .set({ codeRedeemedAt: null, ...(by.operatorId ? { operatorId: null } : {}) })
          .where(eq(sessions.id, won.id));
        return { ok: false, code: 'CODE_EXPIRED' };
      }
      return { ok: true, session: won };
    }
    const [row] = await this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.codeHash, codeHash), eq(sessions.initiator, by.initiator)));
    if (!row) return { ok: false, code: 'CODE_INVALID' };
    if (row.codeRedeemedAt) return { ok: false, code: 'CODE_USED' };
    if (row.codeExpiresAt && row.codeExpiresAt.getTime() <= now.getTime())
      return { ok: false, code: 'CODE_EXPIRED' };
    return { ok: false, code: 'SESSION_ENDED' };
  }

  /**
   * An agent carrying an operator's session in its stamp claims it without a code: once, and only
   * while the code is valid.
   */
  async claimForAgent(id: string): Promise<'claimed' | 'CODE_EXPIRED' | 'CODE_USED'> {
    const now = new Date();
    const [won] = await this.db
      .update(sessions)
      .set({ codeRedeemedAt: now })
      .where(
        and(
          eq(sessions.id, id),
          eq(sessions.initiator, 'operator'),
          eq(sessions.status, 'waiting'),
          isNull(sessions.codeRedeemedAt),
          gt(sessions.codeExpiresAt, now),
        ),
      )
      .returning({ id: sessions.id });
    if (won) return 'claimed';
    const row = await this.get(id);
    return row?.codeRedeemedAt ? 'CODE_USED' : 'CODE_EXPIRED';
  }

  /** Gives a code back, when it was redeemed by someone who may not have it. */
  async unredeem(id: string): Promise<void> {
    await this.db.update(sessions).set({ codeRedeemedAt: null, operatorId: null }).where(eq(sessions.id, id));
  }

  async get(id: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(sessions).where(eq(sessions.id, id));
    return row;
  }

  /**
   * Lists sessions newest first. The cursor is the last row seen, as (createdAt, id): rows created in
   * the same millisecond are ordered by id, so none is skipped between pages.
   */
  async list(options: {
    status?: SessionStatus;
    limit: number;
    after?: SessionCursor;
    organisationId?: string;
  }): Promise<SessionRow[]> {
    const conditions = [];
    if (options.status) conditions.push(eq(sessions.status, options.status));
    if (options.organisationId) conditions.push(eq(sessions.organisationId, options.organisationId));
    if (options.after) {
      const at = new Date(options.after.createdAt);
      conditions.push(
        or(lt(sessions.createdAt, at), and(eq(sessions.createdAt, at), lt(sessions.id, options.after.id))),
      );
    }
    return this.db
      .select()
      .from(sessions)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(sessions.createdAt), desc(sessions.id))
      .limit(options.limit);
  }

  /** The end user consented: the session is active, with what they allowed. */
  async markActive(id: string, permissions: Permissions): Promise<void> {
    await this.db
      .update(sessions)
      .set({ status: 'active', activatedAt: new Date(), permissions })
      .where(and(eq(sessions.id, id), eq(sessions.status, 'waiting')));
  }

  /** The end user changed what they allow; kept so a session resumed after a restart goes on with it. */
  async recordPermissions(id: string, permissions: Permissions): Promise<void> {
    await this.db
      .update(sessions)
      .set({ permissions })
      .where(and(eq(sessions.id, id), eq(sessions.status, 'active')));
  }

  /** Ends a session once; returns false when it had already ended. */
  async markEnded(id: string, reason: string): Promise<boolean> {
    const rows = await this.db
      .update(sessions)
      .set({ status: 'ended', endedAt: new Date(), endReason: reason })
      .where(and(eq(sessions.id, id), ne(sessions.status, 'ended')))
      .returning({ id: sessions.id });
    return rows.length > 0;
  }

  /**
   * Ends waiting sessions whose code expired unused and whose agent never connected (an operator's
   * invitation nobody took up). Sessions with a connected agent are ended by their relay's timer.
   */
  async expireUnclaimed(now = new Date()): Promise<string[]> {
    const rows = await this.db
      .update(sessions)
      .set({ status: 'ended', endedAt: now, endReason: 'code-expired' })
      .where(
        and(
          eq(sessions.status, 'waiting'),
          isNull(sessions.codeRedeemedAt),
          isNull(sessions.agentConnectedAt),
          lt(sessions.codeExpiresAt, now),
        ),
      )
      .returning({ id: sessions.id });
    return rows.map((row) => row.id);
  }

  /**
   * Sessions a previous run of this node left open (it shut down or crashed with their agents
   * connected): their agents may come back with their tokens and resume them.
   */
  async leftOpen(node: string): Promise<SessionRow[]> {
    return this.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.relayNode, node), ne(sessions.status, 'ended')));
  }
}
