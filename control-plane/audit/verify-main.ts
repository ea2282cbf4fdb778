/**
 * `npm run audit:verify -- <export.jsonl> <jwks.json file or https://…/.well-known/jwks.json>`: checks
 * an audit export; exits 1 naming the first bad seq (README, "Audit trail").
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { verifyExport } from './verify.ts';

const [file, keys] = process.argv.slice(2);
if (!file || !keys) {
  process.stderr.write('usage: npm run audit:verify -- <export.jsonl> <jwks.json file or URL>\n');
  process.exit(2);
}
const jwks = (
  /^https?:\/\//.test(keys) ? await (await fetch(keys)).json() : JSON.parse(readFileSync(keys, 'utf8'))
) as JSONWebKeySet;
const verdict = await verifyExport(readFileSync(file, 'utf8'), jwks);
if (verdict.ok) {
  process.stdout.write(
    `ok: ${verdict.events} events, chain intact up to the signed head (seq ${verdict.headSeq})\n`,
  );
} else {
  process.stderr.write(`FAILED at seq ${verdict.seq}: ${verdict.reason}\n`);
  process.exit(1);
}
