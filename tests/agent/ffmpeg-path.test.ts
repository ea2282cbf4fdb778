import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveEncoderPrograms } from '../../agent/media/encoder-path.ts';
import {
  FfmpegNotFoundError,
  findOnPath,
  isFfmpegNotFoundError,
  resolveFfmpeg,
} from '../../agent/media/ffmpeg-path.ts';

const { PATH } = process.env;

describe('resolveFfmpeg', () => {
  let dir: string;
  let fakeFfmpeg: string;
  let notExecutable: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-ffmpeg-path-'));
    fakeFfmpeg = join(dir, 'ffmpeg');
    writeFileSync(fakeFfmpeg, '#!/bin/sh\necho fake ffmpeg\n');
    chmodSync(fakeFfmpeg, 0o755);
    notExecutable = join(dir, 'not-executable');
    writeFileSync(notExecutable, 'data');
    chmodSync(notExecutable, 0o644);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses an FFMPEG_PATH that does not exist, saying so and what to do', () => {
    const missing = join(dir, 'missing-ffmpeg');
    assert.throws(
      () => resolveFfmpeg({ FFMPEG_PATH: missing, PATH }),
      (error: unknown) => {
        assert.ok(isFfmpegNotFoundError(error));
        assert.ok(error instanceof FfmpegNotFoundError);
        assert.equal(error.kind, 'invalid-ffmpeg-path');
        assert.equal(error.name, 'FfmpegNotFoundError');
        assert.match(error.message, /FFMPEG_PATH/);
        assert.ok(error.message.includes(missing));
        assert.match(error.message, /does not exist/);
        return true;
      },
    );
  });

  it('refuses an FFMPEG_PATH that is not executable, even though others are installed', () => {
    // Root may execute any file with an x bit, but 0644 has none, so this holds for root too.
    assert.throws(() => resolveFfmpeg({ FFMPEG_PATH: notExecutable }), /is not executable/);
  });

  it('prefers an executable FFMPEG_PATH over the installed packages', () => {
    assert.deepEqual(resolveFfmpeg({ FFMPEG_PATH: fakeFfmpeg }), { path: fakeFfmpeg, source: 'FFMPEG_PATH' });
  });

  it('finds by default an ffmpeg that runs -version and can encode H.264', () => {
    const resolved = resolveFfmpeg({ PATH });
    // ffmpeg-static is not installed here, so the @ffmpeg-installer package comes next.
    assert.equal(resolved.source, '@ffmpeg-installer');
    const version = spawnSync(resolved.path, ['-hide_banner', '-version']);
    assert.equal(version.status, 0);
    assert.match(version.stdout.toString(), /^ffmpeg version/);
    const encoders = spawnSync(resolved.path, ['-hide_banner', '-encoders']).stdout.toString();
    assert.match(encoders, /libx264/);
  });

  it('finds an executable on PATH and skips directories without one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'lifeline-empty-'));
    try {
      assert.equal(findOnPath('ffmpeg', { PATH: [empty, dir].join(':') }), fakeFfmpeg);
      assert.equal(findOnPath('ffmpeg', { PATH: empty }), undefined);
      assert.equal(findOnPath('not-executable', { PATH: dir }), undefined);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('resolveEncoderPrograms', () => {
  let dir: string;
  let fakeEncoder: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-encoder-path-'));
    fakeEncoder = join(dir, 'lifeline-x264');
    writeFileSync(fakeEncoder, '#!/bin/sh\n');
    chmodSync(fakeEncoder, 0o755);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('offers lifeline-x264 from LIFELINE_X264_PATH, with ffmpeg beside it for what it cannot do', () => {
    const programs = resolveEncoderPrograms({ LIFELINE_X264_PATH: fakeEncoder, PATH });
    assert.equal(programs.x264Path, fakeEncoder);
    assert.equal(programs.ffmpegPath, resolveFfmpeg({ PATH }).path);
  });

  it('uses only the ffmpeg a user named in FFMPEG_PATH, even with lifeline-x264 at hand', () => {
    const ffmpeg = resolveFfmpeg({ PATH }).path;
    assert.deepEqual(resolveEncoderPrograms({ FFMPEG_PATH: ffmpeg, LIFELINE_X264_PATH: fakeEncoder }), {
      ffmpegPath: ffmpeg,
    });
  });

  it('refuses a LIFELINE_X264_PATH that does not exist, naming the variable', () => {
    const missing = join(dir, 'missing');
    assert.throws(
      () => resolveEncoderPrograms({ LIFELINE_X264_PATH: missing, PATH }),
      (error: unknown) =>
        isFfmpegNotFoundError(error) &&
        error.message.includes('LIFELINE_X264_PATH') &&
        error.message.includes(missing),
    );
  });
});
