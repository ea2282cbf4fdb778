import { createHash } from 'node:crypto';

/** The `prevHash` of the chain's first link. */
export const GENESIS_HASH = '0'.repeat(64);

/** An audit event's fields as the chain covers them (`at` in epoch milliseconds). */
export interface ChainedFields {
  at: number;
  actorType: string;
  actorId: string | null;
  action: string;
  sessionId: string | null;
  organisationId: string | null;
  address: string | null;
  details: Record<string, unknown> | null;
}

/** JSON with object keys sorted at every depth, so the same value always hashes alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The hash of an event's fields alone: what an export shows for a row the reader may not see. */
export function bodyHashOf(fields: ChainedFields): string {
  return sha256(
    canonicalJson({
      at: fields.at,
      actorType: fields.actorType,
      actorId: fields.actorId,
      action: fields.action,
      sessionId: fields.sessionId,
      organisationId: fields.organisationId,
      address: fields.address,
      details: fields.details,
    }),
  );
}

/** A link's hash: SHA-256 over its position, the previous link's hash and its fields' hash. */
export function linkHashOf(seq: number, prevHash: string, bodyHash: string): string {
  return sha256(canonicalJson({ seq, prevHash, bodyHash }));
}
