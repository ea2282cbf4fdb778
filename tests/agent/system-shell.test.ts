import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { windowsInteractiveShell } from '../../agent/shell/system-shell.ts';

describe("the Windows agent's interactive shell", () => {
  const env = { SystemRoot: 'C:\\WINDOWS', ComSpec: 'C:\\WINDOWS\\system32\\cmd.exe' };

  it('is Windows PowerShell from the system folder where it is installed', () => {
    const asked: string[] = [];
    const shell = windowsInteractiveShell(env, (path) => {
      asked.push(path);
      return true;
    });
    assert.deepEqual(asked, ['C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe']);
    assert.deepEqual(shell, { file: asked[0], args: ['-NoLogo'] });
  });

  it('is %ComSpec% where PowerShell is missing, as under Wine', () => {
    assert.deepEqual(
      windowsInteractiveShell(env, () => false),
      {
        file: 'C:\\WINDOWS\\system32\\cmd.exe',
        args: [],
      },
    );
    assert.deepEqual(
      windowsInteractiveShell({}, () => false),
      { file: 'cmd.exe', args: [] },
    );
  });
});
