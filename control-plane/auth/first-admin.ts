import { randomUUID } from 'node:crypto';
import { count } from 'drizzle-orm';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { operators, organisations } from '../db/schema.ts';
import { generatePassword, hashPassword } from './passwords.ts';

/**
 * On first start, creates the default organisation and an admin account. The password comes from
 * `LIFELINE_ADMIN_PASSWORD`, or is generated and shown once through `announce` (never logged).
 */
export async function ensureFirstAdmin(
  db: Database,
  config: Config,
  audit: AuditLog,
  announce: (text: string) => void,
): Promise<void> {
  const [row] = await db.select({ n: count() }).from(operators);
  if ((row?.n ?? 0) > 0) return;
  const organisationId = randomUUID();
  const password = config.adminPassword ?? generatePassword();
  const now = new Date();
  await db.insert(organisations).values({ id: organisationId, name: 'Default organisation', createdAt: now });
  const id = randomUUID();
  await db.insert(operators).values({
    id,
    organisationId,
    username: config.adminUsername,
    name: 'Administrator',
    passwordHash: await hashPassword(password),
    role: 'admin',
    createdAt: now,
  });
  await audit.record({
    actorType: 'system',
    action: 'operator.create',
    details: { operatorId: id, role: 'admin', first: true },
  });
  if (!config.adminPassword) {
    announce(
      [
        '',
        '  ┌──────────────────────────────────────────────────────────────┐',
        '  │ Lifeline: first start. An admin account was created.        │',
        `  │   username: ${config.adminUsername.padEnd(49)}│`,
        `  │   password: ${password.padEnd(49)}│`,
        '  │ It is shown only this once: store it in a password manager. │',
        '  └──────────────────────────────────────────────────────────────┘',
        '',
        '',
      ].join('\n'),
    );
  }
}
