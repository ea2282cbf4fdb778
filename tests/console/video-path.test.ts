import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VideoPathChooser } from '../../console/app/media/video-path.ts';

// The choice between decoding on the page and in the video worker, on a scripted clock: what the
// renderer reports (pictures drawn with their main-thread cost, long tasks) and the path it gets.

/** Reports `seconds` of pictures at 30 a second, each costing `drawMs`, with `longTaskMs` of other work a second. */
function run(
  chooser: VideoPathChooser,
  from: number,
  seconds: number,
  picture: { drawMs: number; longTaskMsPerSecond?: number; skippedPerSecond?: number },
): { paths: string[]; end: number } {
  const paths: string[] = [];
  let now = from;
  for (let i = 0; i < seconds * 30; i++) {
    now += 1000 / 30;
    if (i % 30 === 0 && picture.longTaskMsPerSecond) chooser.longTask(picture.longTaskMsPerSecond);
    const skipped = i % 30 === 0 ? (picture.skippedPerSecond ?? 0) : 0;
    chooser.drawn(now, picture.drawMs, skipped);
    paths.push(chooser.next(now));
  }
  return { paths, end: now };
}

describe('video path chooser', () => {
  it('a page that keeps up stays on the page path', () => {
    const chooser = new VideoPathChooser('main thread');
    const { paths } = run(chooser, 0, 20, { drawMs: 8 });
    assert.ok(paths.every((path) => path === 'main thread'));
  });

  it('one busy second does not move decoding; a sustained busy page moves it to the worker', () => {
    const chooser = new VideoPathChooser('main thread');
    let at = run(chooser, 0, 1, { drawMs: 5, longTaskMsPerSecond: 900 }).end;
    at = run(chooser, at, 3, { drawMs: 5 }).end;
    assert.equal(chooser.path, 'main thread');
    run(chooser, at, 4, { drawMs: 5, longTaskMsPerSecond: 700 });
    assert.equal(chooser.path, 'worker');
  });

  it('drawing that takes most of the picture interval moves decoding to the worker', () => {
    const chooser = new VideoPathChooser('main thread');
    run(chooser, 0, 4, { drawMs: 25 });
    assert.equal(chooser.path, 'worker');
  });

  it('pictures that cost more to draw on the page than in the worker move decoding there, and it stays', () => {
    const chooser = new VideoPathChooser('main thread');
    // 5 pictures a second at 16 ms: the page is only 8 % busy, but each picture is late by its cost.
    let at = 0;
    const pictures = (seconds: number, drawMs: number) => {
      for (let i = 0; i < seconds * 5; i++) {
        at += 200;
        chooser.drawn(at, drawMs, 0);
        chooser.next(at);
      }
    };
    pictures(2, 16);
    assert.equal(chooser.path, 'main thread', 'one window is not enough');
    pictures(2, 16);
    assert.equal(chooser.path, 'worker');
    // Quiet for long on the worker path (cheap puts): the page's own cost would still be 16 ms.
    pictures(20, 1);
    assert.equal(chooser.path, 'worker');
  });

  it('pictures at 12 ms or less each on a quiet page stay on the page', () => {
    const chooser = new VideoPathChooser('main thread');
    run(chooser, 0, 3, { drawMs: 12, skippedPerSecond: 0 });
    let at = 3000;
    for (let i = 0; i < 50; i++) {
      at += 200;
      chooser.drawn(at, 12, 0);
      chooser.next(at);
    }
    assert.equal(chooser.path, 'main thread');
  });

  it('pictures skipped second after second move decoding to the worker', () => {
    const chooser = new VideoPathChooser('main thread');
    run(chooser, 0, 4, { drawMs: 2, skippedPerSecond: 5 });
    assert.equal(chooser.path, 'worker');
  });

  it('a busy worker-path page stays there while pictures at the page’s drawing cost would keep it busy', () => {
    const chooser = new VideoPathChooser('main thread');
    const at = run(chooser, 0, 4, { drawMs: 12, longTaskMsPerSecond: 600 }).end;
    assert.equal(chooser.path, 'worker');
    // The blits cost little, but 30 pictures at the page's 12 ms would make it 36 % busy.
    run(chooser, at, 15, { drawMs: 1 });
    assert.equal(chooser.path, 'worker');
  });

  it('decoding moves back to the page only after ten quiet windows', () => {
    const chooser = new VideoPathChooser('main thread');
    let at = run(chooser, 0, 4, { drawMs: 12, longTaskMsPerSecond: 600 }).end;
    assert.equal(chooser.path, 'worker');
    // A calmer screen: 5 pictures a second at the page's 12 ms is 6 % busy.
    const calm = (seconds: number) => {
      for (let i = 0; i < seconds * 5; i++) {
        at += 200;
        chooser.drawn(at, 1, 0);
        chooser.next(at);
      }
    };
    calm(5);
    assert.equal(chooser.path, 'worker');
    calm(8);
    assert.equal(chooser.path, 'main thread');
  });

  it('the console says it is behind for a window its main thread was busy, on either path, not for skipped pictures alone, and not once it keeps up', () => {
    const chooser = new VideoPathChooser('main thread');
    let at = run(chooser, 0, 2, { drawMs: 8 }).end;
    assert.equal(chooser.behind, false, 'keeping up');
    at = run(chooser, at, 1.5, { drawMs: 5, longTaskMsPerSecond: 700 }).end;
    assert.equal(chooser.behind, true, 'a busy main thread');
    at = run(chooser, at, 4, { drawMs: 5, longTaskMsPerSecond: 700 }).end;
    assert.equal(chooser.path, 'worker');
    at = run(chooser, at, 2, { drawMs: 1 }).end;
    assert.equal(chooser.behind, false, 'the worker keeps up');
    at = run(chooser, at, 1.5, { drawMs: 1, skippedPerSecond: 5 }).end;
    assert.equal(chooser.behind, false, 'pictures skipped by a burst from the link');
    at = run(chooser, at, 1.5, { drawMs: 1, longTaskMsPerSecond: 700 }).end;
    assert.equal(chooser.behind, true, 'a busy main thread on the worker path');
    run(chooser, at, 2, { drawMs: 1 });
    assert.equal(chooser.behind, false);
  });
});
