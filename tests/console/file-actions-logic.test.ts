import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeAction } from '../../console/app/tools/actions/change-action.ts';
import { UploadAction } from '../../console/app/tools/actions/upload-action.ts';
import type { ActionState } from '../../console/app/tools/actions/whole-action.ts';
import { compressesInZip, zipEntryName, zipNameFor } from '../../console/app/tools/actions/zip-download.ts';
import { selectNames } from '../../console/app/tools/file-browser.ts';
import { type ChannelMessage, OperatorChannels } from '../../console/app/tools/operator-channels.ts';
import { saveInMemory } from '../../console/app/tools/saving/file-saver.ts';
import { ALL_ROOTS_NAME, sharesAllRoots } from '../../console/app/tools/shared-paths.ts';
import type { ControlMessage } from '../../protocol/index.ts';
import { waitFor } from '../support/processes.ts';

// The parts of the file manager's whole actions (README "Files") that need no browser; the
// end-to-end behaviour is in tests/e2e/file-actions.test.ts.
describe('choosing several items and acting on them at once', () => {
  it('a shift-click ticks every name from the last one ticked, and unticks them the same way', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    assert.deepEqual(selectNames(names, ['b'], 'b', 'd', true), ['b', 'c', 'd']);
    assert.deepEqual(selectNames(names, ['b', 'c', 'd'], 'd', 'b', true), []);
    assert.deepEqual(selectNames(names, ['a'], 'a', 'e', false), ['a', 'e'], 'without Shift, one name');
    assert.deepEqual(selectNames(names, [], null, 'c', true), ['c'], 'no anchor yet: one name');
  });

  it('an upload with a name that would leave its folder is refused whole before anything is sent', async () => {
    const port = new OperatorChannels();
    const file = new File(['x'], 'x.txt');
    const upload = new UploadAction(
      port,
      1,
      [{ file, path: 'site/../../etc/x.txt' }],
      [],
      'docs',
      'site',
      () => {},
    );
    let last: ActionState = upload.state;
    upload.subscribe((state) => {
      last = state;
    });
    upload.start();
    await waitFor('the upload to stop', () => last.status === 'failed');
    assert.equal(last.error, 'Nothing was uploaded: site/..: That name is reserved.');
    assert.equal(last.filesDone, 0);
  });

  it('text is deflated in a zip, everything else stored; a zip is named after the one folder in it', () => {
    assert.equal(compressesInZip('server.LOG'), true);
    assert.equal(compressesInZip('data.json'), true);
    assert.equal(compressesInZip('photo.jpg'), false);
    assert.equal(compressesInZip('backup.tar.gz'), false);
    assert.equal(zipNameFor([{ path: 'docs/photos', type: 'directory' }], 'docs'), 'photos.zip');
    assert.equal(
      zipNameFor(
        [
          { path: 'docs/a', type: 'file' },
          { path: 'docs/b', type: 'file' },
        ],
        'docs',
      ),
      'docs.zip',
    );
    assert.equal(zipNameFor([{ path: '%2F', type: 'directory' }], ALL_ROOTS_NAME), 'files.zip');
  });

  it('a zip made at the very top of every drive names each root as people read it, not by its encoded path', () => {
    assert.equal(zipEntryName('%2F/etc/hosts', ''), 'root/etc/hosts');
    assert.equal(zipEntryName('%2Fhome', ''), 'home');
    assert.equal(zipEntryName('%2Fmnt%2Fdata/a.txt', ''), 'mnt data/a.txt');
    assert.equal(zipEntryName('C%3A%5C/Users/ada.txt', ''), 'C/Users/ada.txt');
    // A shared folder's top, and any folder below, keep their names.
    assert.equal(zipEntryName('docs/a.txt', ''), 'docs/a.txt');
    assert.equal(zipEntryName('%2Fhome/ada/notes.txt', '%2Fhome/ada'), 'notes.txt');
  });

  it('without streaming to disk, a zip whose size shows only as it grows stops at the in-memory limit and says to use HTTPS', () => {
    let broken = '';
    const sink = saveInMemory(() => assert.fail('nothing is saved'), 10)
      .begin('logs.zip')
      .open({ size: null, taken: () => {}, broken: (reason) => (broken = reason) });
    sink.write(new Uint8Array(8));
    assert.equal(broken, '');
    sink.write(new Uint8Array(8));
    assert.match(broken, /^The zip is 0 MiB; without streaming to disk .* Open the console over HTTPS/);
  });

  it('an agent sharing every drive is told apart from a shared folder by its paths and its roots', () => {
    assert.equal(sharesAllRoots('%2Fhome/ada', []), true);
    assert.equal(sharesAllRoots('', ['%2F', 'C%3A%5C']), true);
    assert.equal(sharesAllRoots('', ['Documents', '%2F']), false);
    assert.equal(sharesAllRoots('docs', []), false);
  });

  it('a delete whose answer the drop lost is sent again once the connection is back, and its "not found" counts it done, not failed', async () => {
    // The relay link is this test's: the agent's side of it cannot run without a relay.
    const sent: ControlMessage[] = [];
    const port = new OperatorChannels();
    port.attach({ slot: 1, send: (message) => sent.push(message) > 0, sendFrame: () => true });
    const picked = ['a.txt', 'b.txt'].map((name) => ({
      path: `docs/${name}`,
      type: 'file' as const,
      size: 1,
      modifiedAt: 0,
    }));
    const action = new ChangeAction(port, 1, 'delete', picked, '', '2 items', () => {});
    let last: ActionState = action.state;
    action.subscribe((state) => {
      last = state;
    });
    const deletes = () =>
      sent.filter((message) => message.type === 'file-op') as Extract<ControlMessage, { type: 'file-op' }>[];
    const answer = (message: ChannelMessage) => port.route(message);
    action.start();
    // The walk of two files asks nothing; the deletes go last first.
    await waitFor('the first delete', () => deletes().length === 1);
    answer({ type: 'file-op-done', channel: deletes()[0]!.channel });
    await waitFor('the second delete', () => deletes().length === 2);
    assert.equal(deletes()[1]!.path, 'docs/a.txt');

    // The device deleted a.txt, but the connection dropped before its answer came back.
    action.interrupt();
    await waitFor('the action to pause', () => last.status === 'interrupted');
    assert.equal(last.filesDone, 1);
    assert.equal(deletes().length, 2, 'nothing is sent while the connection is down');

    action.resume();
    await waitFor('the delete sent again', () => deletes().length === 3);
    assert.equal(deletes()[2]!.path, 'docs/a.txt');
    answer({
      type: 'channel-error',
      channel: deletes()[2]!.channel,
      code: 'FILE_NOT_FOUND',
      message: 'docs/a.txt does not exist.',
    });
    await waitFor('the action to end', () => last.status !== 'running');
    assert.equal(last.status, 'done', last.error ?? '');
    assert.equal(last.filesDone, 2);
  });
});
