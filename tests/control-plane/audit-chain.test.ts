import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { asc, eq, isNotNull, sql } from 'drizzle-orm';
import { createAuditLog } from '../../control-plane/audit/audit-log.ts';
import { verifyExport } from '../../control-plane/audit/verify.ts';
import { auditEvents, sessions } from '../../control-plane/db/schema.ts';
import {
  type ApiClient,
  apiClient,
  assertProblem,
  type Credentials,
  cookieOf,
  createOperator,
  expectJson,
  login,
  startWithAdmin,
  whoAmI,
} from '../support/api.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  freePort,
  loginCookie,
  startControlPlane,
  type TestControlPlane,
} from '../support/control-plane.ts';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.ts';

const run = promisify(execFile);

describe('the audit trail is a signed hash chain', () => {
  let cp: TestControlPlane;
  let api: ApiClient;
  let admin: Credentials;
  let technician: Credentials;
  let auditor: Credentials;

  const exportAs = async (who: Credentials) => {
    const response = await api.get('/api/audit-events/export', who);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/x-ndjson/);
    return response.text();
  };
  const verify = async (who: Credentials = admin) => verifyExport(await exportAs(who), cp.services.keys.jwks);
  const rowAt = async (seq: number) => {
    const [row] = await cp.services.db.select().from(auditEvents).where(eq(auditEvents.seq, seq));
    assert.ok(row, `an event at seq ${seq}`);
    return row;
  };

  before(async () => {
    const started = await startWithAdmin();
    ({ cp, api, admin } = started);
    const { me } = started;
    const org = me.organisationId;
    technician = {
      cookie: (
        await createOperator(api, admin, { username: 'tech', role: 'technician', organisationId: org })
      ).cookie,
    };
    auditor = {
      cookie: (await createOperator(api, admin, { username: 'aud', role: 'auditor', organisationId: org }))
        .cookie,
    };
  });

  after(() => cp.stop());

  it('an export verifies, with the verification command, and the export is itself audited', async () => {
    const text = await exportAs(admin);
    const file = join(cp.dataDir, 'export.jsonl');
    const jwksFile = join(cp.dataDir, 'jwks.json');
    writeFileSync(file, text);
    writeFileSync(jwksFile, JSON.stringify(cp.services.keys.jwks));
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      'control-plane/audit/verify-main.ts',
      file,
      jwksFile,
    ]);
    assert.match(stdout, /^ok: /);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.ok(
      lines.some((line) => line.event?.action === 'audit.export'),
      'the export is in the trail',
    );
    assert.ok('checkpoint' in lines.at(-1), 'the last line is the signed head');
    const verdict = await verifyExport(await exportAs(auditor), cp.services.keys.jwks);
    assert.equal(verdict.ok, true, "an auditor's export verifies too");
  });

  it("editing an event's details is detected at that seq, and the command exits non-zero naming it", async () => {
    const row = await rowAt(3);
    await cp.services.db
      .update(auditEvents)
      .set({ details: { forged: true } })
      .where(eq(auditEvents.id, row.id));
    try {
      const file = join(cp.dataDir, 'edited.jsonl');
      const jwksFile = join(cp.dataDir, 'jwks.json');
      writeFileSync(file, await exportAs(admin));
      writeFileSync(jwksFile, JSON.stringify(cp.services.keys.jwks));
      const failed = await run(process.execPath, [
        '--import',
        'tsx',
        'control-plane/audit/verify-main.ts',
        file,
        jwksFile,
      ]).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      assert.ok(failed, 'the verification fails');
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /FAILED at seq 3:/);
    } finally {
      await cp.services.db
        .update(auditEvents)
        .set({ details: row.details })
        .where(eq(auditEvents.id, row.id));
    }
    assert.equal((await verify()).ok, true, 'restored, the trail verifies again');
  });

  it('deleting an event in the middle is detected at its seq', async () => {
    const row = await rowAt(2);
    await cp.services.db.delete(auditEvents).where(eq(auditEvents.id, row.id));
    try {
      assert.deepEqual(await verify(), { ok: false, seq: 2, reason: 'missing' });
    } finally {
      await cp.services.db.insert(auditEvents).values(row);
    }
  });

  it('swapping two events (their seq) is detected at the first of them', async () => {
    const [a, b] = [await rowAt(2), await rowAt(4)];
    // seq is unique: one row steps aside while the other takes its place.
    const place = async (first: typeof a, firstSeq: number, second: typeof a, secondSeq: number) => {
      await cp.services.db.update(auditEvents).set({ seq: -1 }).where(eq(auditEvents.id, first.id));
      await cp.services.db.update(auditEvents).set({ seq: secondSeq }).where(eq(auditEvents.id, second.id));
      await cp.services.db.update(auditEvents).set({ seq: firstSeq }).where(eq(auditEvents.id, first.id));
    };
    await place(a, b.seq!, b, a.seq!);
    try {
      const verdict = await verify();
      assert.equal(verdict.ok, false);
      assert.equal(!verdict.ok && verdict.seq, 2);
    } finally {
      await place(a, a.seq!, b, b.seq!);
    }
    assert.equal((await verify()).ok, true);
  });

  it('an export cut short, or with its tail lines removed, fails against the signed head', async () => {
    const lines = (await exportAs(admin)).trim().split('\n');
    const checkpoint = lines.at(-1)!;
    const events = lines.slice(0, -1);
    const firstDropped = JSON.parse(events.at(-2)!).seq as number;
    const withoutTail = [...events.slice(0, -2), checkpoint].join('\n');
    assert.deepEqual(await verifyExport(withoutTail, cp.services.keys.jwks), {
      ok: false,
      seq: firstDropped,
      reason: `missing: the signed head is at seq ${firstDropped + 1}`,
    });
    const verdict = await verifyExport(events.join('\n'), cp.services.keys.jwks);
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.reason, 'no signed head: the export is cut short');
    const [header, payload, signature] = (JSON.parse(checkpoint) as { checkpoint: string }).checkpoint.split(
      '.',
    );
    const flipped = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;
    const forged = JSON.stringify({ checkpoint: [header, payload, flipped].join('.') });
    const unsigned = await verifyExport([...events, forged].join('\n'), cp.services.keys.jwks);
    assert.equal(!unsigned.ok && unsigned.reason, 'the signed head does not verify against the server keys');
  });

  it("deleting the tail is detected against the server's signed head", async () => {
    await exportAs(admin); // one more event, so the tail is two events long
    const rows = await cp.services.db.select({ seq: auditEvents.seq }).from(auditEvents);
    const last = Math.max(...rows.map((row) => row.seq ?? 0));
    // The export about to run appends its own event at last + 1: delete the two before it.
    const tail = [await rowAt(last - 1), await rowAt(last)];
    for (const row of tail) await cp.services.db.delete(auditEvents).where(eq(auditEvents.id, row.id));
    const verdict = await verify();
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.seq, last - 1);
  });

  it('a technician or a manager cannot export the audit trail (403 FORBIDDEN)', async () => {
    await assertProblem(await api.get('/api/audit-events/export', technician), 403, 'FORBIDDEN');
    const me = await whoAmI(api, admin);
    const manager = await createOperator(api, admin, {
      username: 'boss',
      role: 'manager',
      organisationId: me.organisationId,
    });
    await assertProblem(
      await api.get('/api/audit-events/export', { cookie: manager.cookie }),
      403,
      'FORBIDDEN',
    );
  });
});

describe('the audit writer', () => {
  let cp: TestControlPlane;
  let admin: Credentials;

  const verifyNow = async () => {
    const response = await apiClient(cp).get('/api/audit-events/export', admin);
    assert.equal(response.status, 200);
    return verifyExport(await response.text(), cp.services.keys.jwks);
  };
  const chainedActions = async () =>
    (
      await cp.services.db
        .select({ action: auditEvents.action })
        .from(auditEvents)
        .where(isNotNull(auditEvents.seq))
        .orderBy(asc(auditEvents.seq))
    ).map((row) => row.action);

  before(async () => {
    cp = await startControlPlane();
    admin = { cookie: await loginCookie(cp.app) };
  });

  after(() => cp.stop());

  it('events recorded at once are chained in the order they were recorded', async () => {
    const [session] = await cp.services.db.select({ id: sessions.id }).from(sessions).limit(1);
    const [operator] = await cp.services.db
      .select({ actorId: auditEvents.actorId })
      .from(auditEvents)
      .where(eq(auditEvents.actorType, 'operator'))
      .limit(1);
    assert.ok(operator?.actorId, 'the login above was audited with its operator');
    // Some need a look-up (their session's or their operator's organisation), some none: a writer
    // that appended each as its look-up finished would chain them out of order.
    const actions = Array.from({ length: 30 }, (_, i) => `test.order.${i}`);
    await Promise.all(
      actions.map((action, i) =>
        cp.services.audit.record(
          i % 3 === 0
            ? { actorType: 'operator', actorId: operator.actorId, action }
            : i % 3 === 1
              ? { actorType: 'system', action, sessionId: session?.id ?? 'no-such-session' }
              : { actorType: 'system', action, organisationId: null },
        ),
      ),
    );
    assert.deepEqual(
      (await chainedActions()).filter((a) => a.startsWith('test.order.')),
      actions,
    );
    assert.equal((await verifyNow()).ok, true);
  });

  it('an audit write that fails resolves, is counted, and leaves the chain whole for the next', async () => {
    await cp.services.db.run(
      sql.raw(
        "CREATE TRIGGER refuse_test_event BEFORE INSERT ON audit_events WHEN NEW.action = 'test.refused' " +
          "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      ),
    );
    const failuresBefore = cp.services.audit.failures;
    const circular: { self?: unknown } = {};
    circular.self = circular;
    try {
      await Promise.all([
        cp.services.audit.record({ actorType: 'system', action: 'test.before-refused' }),
        cp.services.audit.record({ actorType: 'system', action: 'test.refused' }),
        cp.services.audit.record({ actorType: 'system', action: 'test.circular', details: circular }),
        cp.services.audit.record({ actorType: 'system', action: 'test.after-refused' }),
      ]);
    } finally {
      await cp.services.db.run(sql.raw('DROP TRIGGER refuse_test_event'));
    }
    assert.equal(cp.services.audit.failures, failuresBefore + 2);
    const actions = await chainedActions();
    assert.deepEqual(actions.slice(actions.indexOf('test.before-refused')), [
      'test.before-refused',
      'test.after-refused',
    ]);
    assert.equal((await verifyNow()).ok, true, 'no gap where the refused events would have been');
  });

  it('a second writer on the same database (another control plane) continues the chain instead of forking it', async () => {
    const other = await createAuditLog(cp.services.db, cp.services.logger);
    const failuresBefore = other.failures + cp.services.audit.failures;
    // Each writer's head is behind the other's by the time it writes again.
    for (let i = 0; i < 3; i++) {
      await cp.services.audit.record({ actorType: 'system', action: `test.here.${i}` });
      await other.record({ actorType: 'system', action: `test.other.${i}` });
    }
    assert.equal(other.failures + cp.services.audit.failures, failuresBefore, 'no event was lost');
    assert.deepEqual(
      (await chainedActions()).filter((a) => a.startsWith('test.here.') || a.startsWith('test.other.')),
      ['test.here.0', 'test.other.0', 'test.here.1', 'test.other.1', 'test.here.2', 'test.other.2'],
    );
    assert.equal((await verifyNow()).ok, true);
  });
});

describe('the audit chain across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-audit-restart-'));
  let cp: ControlPlaneProcess | undefined;

  after(async () => {
    await cp?.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a control plane killed and started again continues the chain, and the export verifies', async () => {
    const port = await freePort();
    const exportOnce = async () => {
      cp = await startControlPlaneProcess({ dataDir, port, env: { LOG_LEVEL: 'warn' } });
      const api = apiClient(cp);
      const response = await login(api, ADMIN_USERNAME, ADMIN_PASSWORD);
      await expectJson(response, 200);
      const exported = await api.get('/api/audit-events/export', { cookie: cookieOf(response) });
      assert.equal(exported.status, 200);
      const jwks = await expectJson<Parameters<typeof verifyExport>[1]>(
        await api.get('/.well-known/jwks.json', undefined),
        200,
      );
      return verifyExport(await exported.text(), jwks);
    };
    const first = await exportOnce();
    assert.equal(first.ok, true);
    await cp!.stop('SIGKILL');
    const second = await exportOnce();
    assert.equal(second.ok, true, JSON.stringify(second));
    assert.ok(second.ok && first.ok && second.headSeq > first.headSeq, 'the chain grew on the same links');
  });
});
