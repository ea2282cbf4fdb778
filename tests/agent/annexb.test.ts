import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import {
  type AccessUnit,
  AccessUnitSplitter,
  NalType,
  nalUnits,
  parseSpsCodecString,
} from '../../agent/media/annexb.ts';
import { findOnPath, resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import {
  assertSameUnits,
  concatUnits,
  decodedFrameCount,
  encodeTestPattern,
  FRAMES,
  feedInChunks,
  GOP_FRAMES,
  itDecodesBack,
  nalTypesOf,
  randomSizes,
} from '../support/h264-stream.ts';

const encodeTestStream = (x264Params: string) => encodeTestPattern('h264', x264Params);

const _ffmpeg = resolveFfmpeg().path;

function split(stream: Uint8Array, nextSize: () => number): AccessUnit[] {
  const splitter = new AccessUnitSplitter();
  return [...feedInChunks(stream, nextSize, (chunk) => splitter.push(chunk)), ...splitter.flush()];
}

describe('AccessUnitSplitter on a real libx264 stream', () => {
  let stream: Uint8Array;
  let units: AccessUnit[];

  before(() => {
    stream = encodeTestStream('repeat-headers=1:aud=1:scenecut=0');
    units = split(stream, () => stream.byteLength);
  });

  it('returns one access unit per encoded frame, and together they are the stream byte for byte', () => {
    assert.equal(units.length, FRAMES);
    assert.deepEqual(concatUnits(units), Buffer.from(stream));
  });

  it('returns the same units whether fed 1-byte, random or whole chunks', () => {
    for (const nextSize of [() => 1, randomSizes(7, 3000), randomSizes(11, 5)])
      assertSameUnits(split(stream, nextSize), units);
  });

  it('marks exactly the IDR units, one per GOP, as keyframes', () => {
    const keyframes = units.flatMap((unit, index) => (unit.keyframe ? [index] : []));
    assert.deepEqual(keyframes, [0, 10, 20, 30]);
    for (const unit of units) assert.equal(unit.keyframe, nalTypesOf(unit).includes(NalType.idr));
  });

  it('starts every unit with an AUD, and every keyframe unit carries SPS, PPS and an IDR slice', () => {
    for (const unit of units) {
      const nalTypes = nalTypesOf(unit);
      assert.equal(nalTypes[0], NalType.aud);
      if (unit.keyframe) {
        assert.ok(nalTypes.includes(NalType.sps), `SPS missing: ${nalTypes}`);
        assert.ok(nalTypes.includes(NalType.pps), `PPS missing: ${nalTypes}`);
        assert.ok(nalTypes.indexOf(NalType.sps) < nalTypes.indexOf(NalType.idr));
      }
    }
  });

  itDecodesBack(() => units);

  it('returns a unit as soon as the first bytes of the next unit arrive', () => {
    const splitter = new AccessUnitSplitter();
    const [first, second] = units;
    assert.ok(first && second);
    assert.deepEqual(splitter.push(first.data), []);
    // Start code (4 bytes), the AUD's header and one payload byte: enough to know a picture begins.
    const emitted = splitter.push(second.data.subarray(0, 6));
    assert.equal(emitted.length, 1);
    assert.deepEqual(emitted[0]?.data, first.data);
  });

  it('drops a partial picture at the start and resumes at the next unit', () => {
    const fifth = units[5];
    assert.ok(fifth);
    const startOfFifth = concatUnits(units.slice(0, 5)).byteLength;
    const splitter = new AccessUnitSplitter();
    const resumed = [
      ...splitter.push(stream.subarray(startOfFifth + Math.floor(fifth.data.byteLength / 2))),
      ...splitter.flush(),
    ];
    assert.equal(resumed.length, FRAMES - 6);
    assert.deepEqual(resumed[0]?.data, units[6]?.data);
    assert.ok(splitter.droppedBytes > 0);
  });

  it('reads the codec string from the SPS as avc1 + profile, constraints and level', (t) => {
    const codec = parseSpsCodecString(units[0]?.data ?? new Uint8Array());
    assert.match(codec ?? '', /^avc1\.[0-9A-F]{6}$/);
    // Baseline profile (66), constraint_set1 set by x264 for Constrained Baseline.
    assert.ok(codec?.startsWith('avc1.42'));
    assert.ok((Number.parseInt(codec?.slice(7, 9) ?? '0', 16) & 0x40) !== 0);
    assert.equal(parseSpsCodecString(units[1]?.data ?? new Uint8Array()), undefined);

    const ffprobe = findOnPath('ffprobe');
    if (!ffprobe) return t.skip('ffprobe is not installed to cross-check the level');
    const probe = spawnSync(ffprobe, ['-v', 'error', '-show_streams', '-f', 'h264', 'pipe:0'], {
      input: stream,
    });
    const level = /^level=(\d+)$/m.exec(probe.stdout.toString())?.[1];
    assert.ok(level, probe.stderr.toString());
    assert.equal(codec?.slice(9), Number(level).toString(16).toUpperCase().padStart(2, '0'));
    assert.match(probe.stdout.toString(), /^profile=Constrained Baseline$/m);
  });
});

describe('AccessUnitSplitter on a stream with parameter sets only at the start', () => {
  it('inserts the last SPS and PPS into later keyframes so they decode on their own', () => {
    const original = split(
      encodeTestStream('repeat-headers=1:aud=1:scenecut=0'),
      () => Number.MAX_SAFE_INTEGER,
    );
    // Encoders without repeat-headers send SPS and PPS once; make such a stream by removing them
    // from every keyframe but the first.
    const stripped = concatUnits(
      original.map((unit, index) => (index === 0 ? unit : withoutParameterSets(unit))),
    );
    const units = split(stripped, randomSizes(3, 4000));
    assert.equal(units.length, FRAMES);
    const later = units[10];
    assert.ok(later?.keyframe);
    assert.deepEqual(nalTypesOf(later).slice(0, 3), [NalType.aud, NalType.sps, NalType.pps]);
    assert.equal(decodedFrameCount(concatUnits(units.slice(10))), FRAMES - 10);
  });
});

function withoutParameterSets(unit: AccessUnit): AccessUnit {
  const kept = nalUnits(unit.data)
    .filter((nal) => nal.type !== NalType.sps && nal.type !== NalType.pps)
    .map((nal) => Buffer.concat([Buffer.from([0, 0, 0, 1]), unit.data.subarray(nal.start, nal.end)]));
  return { data: Buffer.concat(kept), keyframe: unit.keyframe };
}

describe('AccessUnitSplitter on a stream without AUDs', () => {
  it('starts a unit at the SPS or at the first slice of each picture', () => {
    const stream = encodeTestStream('repeat-headers=1:aud=0:scenecut=0');
    const units = split(stream, randomSizes(5, 2000));
    assert.equal(units.length, FRAMES);
    assert.deepEqual(concatUnits(units), Buffer.from(stream));
    for (const [index, unit] of units.entries()) {
      const nalTypes = nalTypesOf(unit);
      assert.equal(nalTypes[0], unit.keyframe ? NalType.sps : NalType.slice, `unit ${index}: ${nalTypes}`);
      assert.equal(unit.keyframe, index % GOP_FRAMES === 0);
    }
    assert.equal(decodedFrameCount(concatUnits(units.slice(30))), FRAMES - 30);
  });
});
