import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type AccessUnit, NalType, parseSpsCodecString } from '../../agent/media/annexb.ts';
import { FlvDemuxer } from '../../agent/media/flv-demuxer.ts';
import { MAX_VIDEO_BYTES } from '../../protocol/frames.ts';
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

/** scenecut=0 keeps keyframes at GOP boundaries only, so their positions are known. */
const encodeFlv = () => encodeTestPattern('flv', 'scenecut=0');

/** FLV file header (9 bytes) and the PreviousTagSize of 0 after it, in bytes. */
const FILE_HEADER_BYTES = 13;
const TAG_HEADER_BYTES = 11;
const TAG_TRAILER_BYTES = 4;

function demux(stream: Uint8Array, nextSize: () => number, demuxer = new FlvDemuxer()): AccessUnit[] {
  return feedInChunks(stream, nextSize, (chunk) => demuxer.push(chunk));
}

/** Where each tag of an FLV stream starts and ends (its trailer excluded), and its type. */
function tags(stream: Uint8Array): { type: number; start: number; end: number }[] {
  const found: { type: number; start: number; end: number }[] = [];
  for (let at = FILE_HEADER_BYTES; at + TAG_HEADER_BYTES <= stream.byteLength; ) {
    const size = ((stream[at + 1] ?? 0) << 16) | ((stream[at + 2] ?? 0) << 8) | (stream[at + 3] ?? 0);
    const end = at + TAG_HEADER_BYTES + size;
    found.push({ type: stream[at] ?? 0, start: at, end });
    at = end + TAG_TRAILER_BYTES;
  }
  return found;
}

/** A well-framed tag of `type` with `body`, its trailer included. */
function tag(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(TAG_HEADER_BYTES + body.byteLength + TAG_TRAILER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.byteLength);
  out[0] = type;
  out.set(body, TAG_HEADER_BYTES);
  view.setUint32(TAG_HEADER_BYTES + body.byteLength, TAG_HEADER_BYTES + body.byteLength);
  return out;
}

describe('FlvDemuxer on a real ffmpeg FLV stream', () => {
  let stream: Uint8Array;
  let units: AccessUnit[];

  before(() => {
    stream = encodeFlv();
    units = demux(stream, () => stream.byteLength);
  });

  it('returns one access unit per frame, the same whether fed whole, 1-byte or random chunks', () => {
    assert.equal(units.length, FRAMES);
    for (const nextSize of [() => 1, randomSizes(7, 3000), randomSizes(11, 5)])
      assertSameUnits(demux(stream, nextSize), units);
  });

  it('marks the IDR units, one per GOP, as keyframes, each with SPS, PPS and the IDR in that order', () => {
    const keyframes = units.flatMap((unit, index) => (unit.keyframe ? [index] : []));
    assert.deepEqual(keyframes, [0, 10, 20, 30]);
    for (const unit of units) {
      const nalTypes = nalTypesOf(unit);
      assert.equal(unit.keyframe, nalTypes.includes(NalType.idr));
      if (!unit.keyframe) continue;
      assert.deepEqual(nalTypes.slice(0, 2), [NalType.sps, NalType.pps], `unit types: ${nalTypes}`);
      assert.ok(nalTypes.indexOf(NalType.pps) < nalTypes.indexOf(NalType.idr));
    }
  });

  itDecodesBack(() => units);

  it('gives the codec string of the sequence header in the first keyframe', () => {
    // Constrained Baseline: profile_idc 66 and constraint_set1 (0x40) set.
    assert.match(
      parseSpsCodecString(units[0]?.data ?? new Uint8Array()) ?? '',
      /^avc1\.42[4-7C-F][0-9A-F]{3}$/,
    );
  });

  it('returns a unit the moment its tag is complete, before any byte of the next tag', () => {
    const videoTags = tags(stream).filter((found) => found.type === 9);
    // The first video tag is the sequence header; frame N is in video tag N + 1.
    const demuxer = new FlvDemuxer();
    const fifth = videoTags[5];
    assert.ok(fifth);
    const early = demuxer.push(stream.subarray(0, fifth.end - 1));
    assert.equal(early.length, 4);
    const last = demuxer.push(stream.subarray(fifth.end - 1, fifth.end));
    assert.equal(last.length, 1);
    assert.deepEqual(last[0]?.data, units[4]?.data);
    assert.deepEqual(demuxer.push(stream.subarray(fifth.end)).length, FRAMES - 5);
  });
});

describe('FlvDemuxer on bad input', () => {
  let stream: Uint8Array;
  before(() => {
    stream = encodeFlv();
  });

  it('drops and counts bytes that are not FLV, without throwing', () => {
    const demuxer = new FlvDemuxer();
    const garbage = new Uint8Array(50_000).map((_, index) => (index * 7919) % 251);
    assert.deepEqual(demux(garbage, randomSizes(3, 700), demuxer), []);
    assert.equal(demuxer.droppedBytes, garbage.byteLength);
  });

  it('finds the signature after garbage, even one that begins like it', () => {
    const demuxer = new FlvDemuxer();
    const garbage = Buffer.from('FFLFLV\x02junk');
    const units = demux(Buffer.concat([garbage, stream]), randomSizes(5, 900), demuxer);
    assert.equal(units.length, FRAMES);
    assert.equal(demuxer.droppedBytes, garbage.byteLength);
  });

  it('skips a video tag over the size limit and waits for the next keyframe', () => {
    const [sequenceHeader, , second] = tags(stream).filter((found) => found.type === 9);
    assert.ok(sequenceHeader && second);
    // A keyframe-typed AVC tag claiming more than any frame may be, with honest framing around it.
    const oversized = new Uint8Array(MAX_VIDEO_BYTES + 1);
    oversized.set([0x17, 1]);
    const withOversized = Buffer.concat([
      stream.subarray(0, sequenceHeader.end + TAG_TRAILER_BYTES),
      tag(9, oversized),
      stream.subarray(second.start),
    ]);
    const demuxer = new FlvDemuxer();
    const units = demux(withOversized, randomSizes(13, 64 * 1024), demuxer);
    // The delta frames after the dropped one would decode to garbage, so they wait for unit 10.
    assert.equal(units.length, FRAMES - GOP_FRAMES);
    assert.equal(units[0]?.keyframe, true);
    assert.equal(decodedFrameCount(concatUnits(units)), FRAMES - GOP_FRAMES);
    assert.ok(demuxer.skippedTags >= GOP_FRAMES, `skipped ${demuxer.skippedTags}`);
  });

  it('counts script, audio and malformed video tags as skipped', () => {
    const head = stream.subarray(0, FILE_HEADER_BYTES);
    const demuxer = new FlvDemuxer();
    const units = demuxer.push(
      Buffer.concat([
        head,
        tag(18, Buffer.from('metadata')),
        tag(8, new Uint8Array(20)),
        tag(9, Uint8Array.of(0x27, 1, 0, 0, 0, 0, 0, 0, 9, 1)), // NAL units before any sequence header
        tag(9, Uint8Array.of(0x12)), // not AVC
        tag(9, new Uint8Array()),
      ]),
    );
    assert.deepEqual(units, []);
    assert.equal(demuxer.skippedTags, 5);
    assert.equal(demuxer.droppedBytes, 0);
  });

  it('stops at a tag whose trailer contradicts its size, and resumes at the next stream', () => {
    const videoTags = tags(stream).filter((found) => found.type === 9);
    const third = videoTags[3];
    assert.ok(third);
    const corrupted = Buffer.from(stream);
    corrupted.writeUInt32BE(12_345, third.end);
    const demuxer = new FlvDemuxer();
    const units = demux(Buffer.concat([corrupted, stream]), randomSizes(17, 2000), demuxer);
    // Frames 0-2 are out before the bad trailer; the rest of that stream is lost; the second is whole.
    assert.equal(units.length, 3 + FRAMES);
    assert.ok(demuxer.droppedBytes > 0);
  });
});
