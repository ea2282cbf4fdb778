import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { SIGNING_ALG } from '../keys/signing-keys.ts';
import { bodyHashOf, type ChainedFields, GENESIS_HASH, linkHashOf } from './chain.ts';

export type Verdict =
  | { ok: true; events: number; headSeq: number }
  | { ok: false; seq: number; reason: string };

interface Line {
  seq?: unknown;
  prevHash?: unknown;
  hash?: unknown;
  bodyHash?: unknown;
  event?: ChainedFields;
  checkpoint?: unknown;
}

/**
 * Checks an export (README, "Audit trail"): every link's hash, every link's tie to the one before it,
 * no gap in `seq`, and that the last link is the head the server signed. Names the first bad `seq`.
 */
export async function verifyExport(text: string, jwks: JSONWebKeySet): Promise<Verdict> {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const fail = (seq: number, reason: string): Verdict => ({ ok: false, seq, reason });
  for (const [index, raw] of lines.entries()) {
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      return fail(expectedSeq, `line ${index + 1} is not JSON`);
    }
    if (line.checkpoint !== undefined) {
      if (index !== lines.length - 1) return fail(expectedSeq, 'the signed head is not the last line');
      let head: { seq: number; hash: string };
      try {
        const { payload } = await compactVerify(String(line.checkpoint), createLocalJWKSet(jwks), {
          algorithms: [SIGNING_ALG],
        });
        head = JSON.parse(new TextDecoder().decode(payload)) as { seq: number; hash: string };
      } catch {
        return fail(expectedSeq, 'the signed head does not verify against the server keys');
      }
      if (head.seq >= expectedSeq) return fail(expectedSeq, `missing: the signed head is at seq ${head.seq}`);
      if (head.seq !== expectedSeq - 1 || head.hash !== prevHash)
        return fail(head.seq, 'the last event is not the signed head');
      return { ok: true, events: expectedSeq - 1, headSeq: head.seq };
    }
    if (line.seq !== expectedSeq) {
      return typeof line.seq === 'number' && line.seq > expectedSeq
        ? fail(expectedSeq, 'missing')
        : fail(expectedSeq, `out of order (found seq ${String(line.seq)})`);
    }
    if (line.prevHash !== prevHash) return fail(expectedSeq, 'not linked to the event before it');
    const bodyHash = line.event ? bodyHashOf(line.event) : line.bodyHash;
    if (typeof bodyHash !== 'string' || linkHashOf(expectedSeq, prevHash, bodyHash) !== line.hash)
      return fail(expectedSeq, 'its hash does not match its content');
    prevHash = line.hash;
    expectedSeq++;
  }
  return fail(expectedSeq, 'no signed head: the export is cut short');
}
