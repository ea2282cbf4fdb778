import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changes, valueText } from '../../console/app/format/changes.ts';
import { formatCountdown, formatDuration, formatMinutes } from '../../console/app/format/time.ts';
import { hashOf, mayOpen, parseHash } from '../../console/app/navigation.ts';
import { endReasonText } from '../../console/app/session/describe.ts';
import { invitationLink } from '../../control-plane/invitations/routes.ts';
import { readInvitationFile } from '../../protocol/api/index.ts';
import { invitationOfHash } from '../../protocol/console-link.ts';
import { DEFAULT_POLICY, END_REASONS } from '../../protocol/index.ts';

describe('console wording and navigation', () => {
  it('counts a code down as minutes and seconds', () => {
    assert.equal(formatCountdown(900), '15:00');
    assert.equal(formatCountdown(845.7), '14:05');
    assert.equal(formatCountdown(-3), '0:00');
    assert.equal(formatCountdown(3723), '1:02:03');
  });

  it('says policy limits in words, with 0 as none', () => {
    assert.equal(formatMinutes(480), '8 h');
    assert.equal(formatMinutes(90), '1 h 30 min');
    assert.equal(formatMinutes(0, 'never'), 'never');
    assert.equal(formatDuration(4 * 60_000 + 20_000), '4 min');
  });

  it('lists what a policy change changed, leaf by leaf', () => {
    const after = {
      ...DEFAULT_POLICY,
      modes: { ...DEFAULT_POLICY.modes, shell: false },
      unattended: { ...DEFAULT_POLICY.unattended, allowed: true, roles: ['admin', 'technician'] },
    };
    assert.deepEqual(changes(DEFAULT_POLICY, after), [
      { path: 'modes.shell', before: true, after: false },
      { path: 'unattended.allowed', before: false, after: true },
      { path: 'unattended.roles', before: ['admin'], after: ['admin', 'technician'] },
    ]);
    assert.deepEqual(changes('Laptops', 'Front desk'), [
      { path: '', before: 'Laptops', after: 'Front desk' },
    ]);
    assert.deepEqual(changes(DEFAULT_POLICY, { ...DEFAULT_POLICY }), []);
    assert.equal(valueText(['admin', 'technician']), 'admin, technician');
  });

  it('explains every end reason of the protocol in its own words', () => {
    const fallback = endReasonText('something-new');
    for (const reason of END_REASONS) assert.notEqual(endReasonText(reason), fallback, reason);
  });

  it('reads and writes pages in the URL hash; unknown pages are the dashboard', () => {
    assert.deepEqual(parseHash('#/audit?session=abc'), { page: 'audit', params: { session: 'abc' } });
    assert.deepEqual(parseHash('#/nowhere'), { page: 'sessions', params: {} });
    assert.deepEqual(parseHash(''), { page: 'sessions', params: {} });
    assert.equal(hashOf({ page: 'sessions', params: {} }), '');
    assert.equal(hashOf({ page: 'audit', params: { session: 'a b' } }), '#/audit?session=a+b');
  });

  it('an invitation link the server writes opens that invitation in the console and in an invitation file', () => {
    const link = new URL(invitationLink('https://help.example:8443', 'inv_A-9'));
    assert.equal(link.hash, '#/sessions?invitation=inv_A-9');
    assert.deepEqual(parseHash(link.hash), { page: 'sessions', params: { invitation: 'inv_A-9' } });
    assert.equal(invitationOfHash(link.hash), 'inv_A-9');
    const file = { lifeline: 'invitation', version: 1, link: link.href, expiresAt: '2030-01-01T00:00:00Z' };
    assert.deepEqual(readInvitationFile(JSON.stringify(file)), {
      ok: true,
      origin: 'https://help.example:8443',
      invitationId: 'inv_A-9',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    for (const hash of ['#/audit?invitation=inv_A-9', '#/sessions?session=abc', '#/sessions?invitation=']) {
      assert.equal(invitationOfHash(hash), undefined, hash);
      const other = { ...file, link: `https://help.example:8443/${hash}` };
      assert.equal(readInvitationFile(JSON.stringify(other)).ok, false, hash);
    }
  });

  it('shows each page only to the roles whose scopes it needs', () => {
    const technician = ['sessions:read', 'sessions:write', 'exec', 'files', 'groups:read'];
    const auditor = ['sessions:read', 'audit:read', 'groups:read'];
    assert.deepEqual(
      (['sessions', 'groups', 'operators', 'tokens', 'audit', 'account'] as const).filter((page) =>
        mayOpen(page, technician),
      ),
      ['sessions', 'groups', 'account'],
    );
    assert.equal(mayOpen('audit', auditor), true);
    assert.equal(mayOpen('tokens', [...auditor, 'operators:read']), false);
  });
});
