import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveFilesRoot } from '../../agent/node/files-root.ts';

describe('--files-root names the folder the agent shares', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'lifeline-root-')));
  after(() => rmSync(base, { recursive: true, force: true }));

  it("defaults to the user's home folder", () => {
    assert.equal(
      resolveFilesRoot(undefined, () => base),
      base,
    );
  });

  it('is resolved to its real path, so links inside are checked against the folder itself', () => {
    symlinkSync(base, join(base, 'alias'));
    assert.equal(resolveFilesRoot(join(base, 'alias')), base);
  });

  it('a folder that does not exist, or a file, is refused at start-up with what to do', () => {
    assert.throws(() => resolveFilesRoot(join(base, 'missing')), /does not exist\. Give a folder to share/);
    writeFileSync(join(base, 'file.txt'), '');
    assert.throws(() => resolveFilesRoot(join(base, 'file.txt')), /is not a folder/);
  });
});
