import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isChannelFailure } from '../../agent/core/channel-failure.ts';
import { resolveSharedPath, wirePathSegments } from '../../agent/files/shared-path.ts';

/** Rejects with PATH_OUTSIDE_FOLDER. */
async function refused(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error) => isChannelFailure(error, 'PATH_OUTSIDE_FOLDER'));
}

describe('resolveSharedPath keeps every path inside the shared folder', () => {
  let base: string;
  let root: string;
  let outside: string;

  before(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-paths-')));
    root = join(base, 'share');
    outside = join(base, 'secret');
    mkdirSync(join(root, 'docs'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'docs', 'a.txt'), 'a');
    writeFileSync(join(outside, 'key'), 'secret');
    symlinkSync(outside, join(root, 'to-outside'));
    symlinkSync(join(outside, 'key'), join(root, 'key-link'));
    symlinkSync(join(root, 'docs'), join(root, 'docs-link'));
    symlinkSync('docs/a.txt', join(root, 'relative-link'));
    symlinkSync(join(outside, 'not-yet'), join(root, 'dangling-outside'));
    symlinkSync(join(root, 'docs', 'new.txt'), join(root, 'dangling-inside'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('accepts the folder itself, files and folders inside it, and paths not created yet', async () => {
    assert.equal(await resolveSharedPath(root, ''), root);
    assert.equal(await resolveSharedPath(root, '.'), root);
    assert.equal(await resolveSharedPath(root, 'docs/a.txt'), join(root, 'docs', 'a.txt'));
    assert.equal(await resolveSharedPath(root, 'docs//./a.txt'), join(root, 'docs', 'a.txt'));
    assert.equal(await resolveSharedPath(root, 'docs/'), join(root, 'docs'));
    assert.equal(await resolveSharedPath(root, 'new/deeper/file'), join(root, 'new', 'deeper', 'file'));
  });

  it('follows a link that stays inside the folder', async () => {
    assert.equal(await resolveSharedPath(root, 'docs-link/a.txt'), join(root, 'docs', 'a.txt'));
    assert.equal(await resolveSharedPath(root, 'relative-link'), join(root, 'docs', 'a.txt'));
    assert.equal(await resolveSharedPath(root, 'dangling-inside'), join(root, 'docs', 'new.txt'));
  });

  it('refuses a link that leads outside, also through a folder link and a dangling link', async () => {
    await refused(resolveSharedPath(root, 'to-outside'));
    await refused(resolveSharedPath(root, 'to-outside/key'));
    await refused(resolveSharedPath(root, 'to-outside/new-file'));
    await refused(resolveSharedPath(root, 'key-link'));
    // Writing through it would create a file outside the folder.
    await refused(resolveSharedPath(root, 'dangling-outside'));
  });

  it('names a link itself, not its target, when asked not to follow the last segment', async () => {
    assert.equal(await resolveSharedPath(root, 'key-link', { followLast: false }), join(root, 'key-link'));
    await refused(resolveSharedPath(root, 'to-outside/key', { followLast: false }));
  });

  it('refuses .., absolute paths, drive letters and NUL bytes', async () => {
    await refused(resolveSharedPath(root, '..'));
    await refused(resolveSharedPath(root, '../secret/key'));
    await refused(resolveSharedPath(root, 'docs/../../secret'));
    await refused(resolveSharedPath(root, 'docs/../a.txt'));
    await refused(resolveSharedPath(root, '/etc/passwd'));
    await refused(resolveSharedPath(root, '//server/share'));
    await refused(resolveSharedPath(root, 'C:/Windows'));
    await refused(resolveSharedPath(root, 'c:secret'));
    await refused(resolveSharedPath(root, 'docs/a.txt\0.png'));
  });

  it('treats a backslash as part of a name on Linux, and refuses it on Windows where it separates', async () => {
    assert.equal(await resolveSharedPath(root, '..\\secret'), join(root, '..\\secret'));
    assert.deepEqual(wirePathSegments('a\\b/c', 'posix'), ['a\\b', 'c']);
    assert.throws(
      () => wirePathSegments('..\\secret', 'windows'),
      (e) => isChannelFailure(e, 'PATH_OUTSIDE_FOLDER'),
    );
    assert.throws(
      () => wirePathSegments('docs/a.txt:stream', 'windows'),
      (e) => isChannelFailure(e),
    );
    assert.throws(
      () => wirePathSegments('.. /x', 'windows'),
      (e) => isChannelFailure(e),
    );
    assert.deepEqual(wirePathSegments('docs/a.txt', 'windows'), ['docs', 'a.txt']);
  });
});
