import { randomUUID } from 'node:crypto';
import { and, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { DeviceStatus } from '../../protocol/api/devices.ts';
import { type DeviceReport, inertDeviceText } from '../../protocol/index.ts';
import type { Database } from '../db/client.ts';
import { type DeviceRemoval, devices } from '../db/schema.ts';
import { pageKeyset } from '../http/paging.ts';

export type DeviceRow = typeof devices.$inferSelect;

export interface DeviceFilter {
  organisationId?: string | undefined;
  groupId?: string | undefined;
  /** A substring of the host name, case-insensitive. */
  search?: string | undefined;
  /** Without a status, every device that was not removed. */
  status?: DeviceStatus | undefined;
}

/** The device's report with every text field made inert, as stored and shown. */
function inertReport(report: DeviceReport) {
  return {
    hostname: inertDeviceText(report.hostname, 100),
    os: report.os === undefined ? null : inertDeviceText(report.os, 100),
    consoleUser: report.consoleUser === undefined ? null : inertDeviceText(report.consoleUser, 100),
    agentVersion: inertDeviceText(report.agentVersion, 50),
  };
}

/** `%` and `_` typed in a search are matched as themselves. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function deviceStatus(row: DeviceRow): DeviceStatus {
  if (row.removedAt) return 'removed';
  return row.connectedNode ? 'online' : 'offline';
}

/** Enrolled devices: their public keys, what they report, and where they are connected. */
export class DeviceStore {
  constructor(private readonly db: Database) {}

  async enrol(input: {
    organisationId: string;
    deviceGroupId: string;
    publicJwk: JsonWebKey;
    report: DeviceReport;
  }): Promise<DeviceRow> {
    const [row] = await this.db
      .insert(devices)
      .values({
        id: randomUUID(),
        organisationId: input.organisationId,
        deviceGroupId: input.deviceGroupId,
        publicJwk: input.publicJwk,
        ...inertReport(input.report),
        createdAt: new Date(),
      })
      .returning();
    return row!;
  }

  async get(id: string): Promise<DeviceRow | undefined> {
    const [row] = await this.db.select().from(devices).where(eq(devices.id, id));
    return row;
  }

  /** One page of devices (fetches `limit + 1` rows for `pageOf`), oldest enrolment first. */
  async list(
    filter: DeviceFilter,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<DeviceRow[]> {
    const keyset = pageKeyset(devices, page);
    const conditions: (SQL | undefined)[] = [
      filter.organisationId ? eq(devices.organisationId, filter.organisationId) : undefined,
      filter.groupId ? eq(devices.deviceGroupId, filter.groupId) : undefined,
      filter.search ? sql`${devices.hostname} LIKE ${likePattern(filter.search)} ESCAPE '\\'` : undefined,
      filter.status === 'removed' ? isNotNull(devices.removedAt) : isNull(devices.removedAt),
      filter.status === 'online' ? isNotNull(devices.connectedNode) : undefined,
      filter.status === 'offline' ? isNull(devices.connectedNode) : undefined,
      keyset.where,
    ];
    return this.db
      .select()
      .from(devices)
      .where(and(...conditions))
      .orderBy(...keyset.orderBy)
      .limit(keyset.fetch);
  }

  /** The device's socket arrived at `node`'s hub with this report. */
  async connected(id: string, node: string, report: DeviceReport): Promise<void> {
    await this.db
      .update(devices)
      .set({ ...inertReport(report), connectedNode: node, lastSeenAt: new Date() })
      .where(eq(devices.id, id));
  }

  async report(id: string, report: DeviceReport): Promise<void> {
    await this.db.update(devices).set(inertReport(report)).where(eq(devices.id, id));
  }

  /** The device's socket at `node` closed; a newer connection at another node is left alone. */
  async disconnected(id: string, node: string, lastSeenAt: Date): Promise<void> {
    await this.db
      .update(devices)
      .set({ connectedNode: null, lastSeenAt })
      .where(and(eq(devices.id, id), eq(devices.connectedNode, node)));
  }

  /** Sockets a previous run of `node` held are gone: those devices are offline until they return. */
  async clearNode(node: string): Promise<void> {
    await this.db.update(devices).set({ connectedNode: null }).where(eq(devices.connectedNode, node));
  }

  /** Ends the device's identity for good; returns the row, or undefined when it was removed already. */
  async remove(id: string, removal: DeviceRemoval): Promise<DeviceRow | undefined> {
    const [row] = await this.db
      .update(devices)
      .set({ removedAt: new Date(), removal, connectedNode: null })
      .where(and(eq(devices.id, id), isNull(devices.removedAt)))
      .returning();
    return row;
  }
}
