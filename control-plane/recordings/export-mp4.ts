import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { NalType, nalUnits } from '../../agent/media/annexb.ts';
import { resolveFfmpeg } from '../../agent/media/ffmpeg-path.ts';
import {
  AVC_CODEC_ID,
  AVC_PAYLOAD_OFFSET,
  AvcPacketType,
  FlvFrameType,
  TAG_HEADER_BYTES,
  TagType,
} from '../../agent/media/flv-format.ts';
import { decodeFrame } from '../../protocol/frames.ts';
import type { RecordingRecord } from '../../protocol/recording.ts';

/** "FLV", version 1, video only, header size 9, then PreviousTagSize0. */
const FLV_HEADER = Uint8Array.of(0x46, 0x4c, 0x56, 0x01, 0x01, 0, 0, 0, 9, 0, 0, 0, 0);

/** Why no MP4 could be made. */
export type Mp4ExportFailureKind = 'no-video' | 'no-ffmpeg' | 'ffmpeg-failed';

export class Mp4ExportError extends Error {
  override readonly name = 'Mp4ExportError';
  constructor(
    readonly kind: Mp4ExportFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One FLV tag (header, body, PreviousTagSize) at `ms`. */
function flvTag(ms: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(TAG_HEADER_BYTES + body.byteLength + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, (TagType.video << 24) | body.byteLength);
  view.setUint32(4, ((ms & 0xffffff) << 8) | ((ms >>> 24) & 0xff));
  out.set(body, TAG_HEADER_BYTES);
  view.setUint32(TAG_HEADER_BYTES + body.byteLength, TAG_HEADER_BYTES + body.byteLength);
  return out;
}

/** An FLV video tag body: its 5-byte AVC header, then `payload`. */
function avcBody(keyframe: boolean, packetType: number, payload: Uint8Array): Uint8Array {
  const body = new Uint8Array(AVC_PAYLOAD_OFFSET + payload.byteLength);
  body[0] = ((keyframe ? FlvFrameType.keyframe : FlvFrameType.interFrame) << 4) | AVC_CODEC_ID;
  body[1] = packetType;
  body.set(payload, AVC_PAYLOAD_OFFSET);
  return body;
}

/** An Annex-B access unit's NAL units, each behind a 4-byte length instead of a start code (AVCC). */
function toAvcc(unit: Uint8Array, nals: { start: number; end: number }[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((sum, nal) => sum + 4 + nal.end - nal.start, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const nal of nals) {
    view.setUint32(at, nal.end - nal.start);
    out.set(unit.subarray(nal.start, nal.end), at + 4);
    at += 4 + nal.end - nal.start;
  }
  return out;
}

/** The AVCDecoderConfigurationRecord (ISO 14496-15) for one SPS and one PPS, 4-byte lengths. */
function avcConfig(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  const out = new Uint8Array(11 + sps.byteLength + pps.byteLength);
  const view = new DataView(out.buffer);
  out.set([1, sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0, 0xff, 0xe1]);
  view.setUint16(6, sps.byteLength);
  out.set(sps, 8);
  out[8 + sps.byteLength] = 1;
  view.setUint16(9 + sps.byteLength, pps.byteLength);
  out.set(pps, 11 + sps.byteLength);
  return out;
}

/** Writes to ffmpeg's stdin at its pace; false once ffmpeg stopped reading (its exit code says why). */
async function write(stream: Writable, bytes: Uint8Array): Promise<boolean> {
  if (stream.destroyed) return false;
  if (!stream.write(bytes))
    await Promise.race([once(stream, 'drain'), once(stream, 'close')]).catch(() => undefined);
  return !stream.destroyed;
}

/**
 * Writes a recording's video to `output` as an MP4, remuxed by ffmpeg (`-c copy`), never re-encoded:
 * each recorded access unit becomes one MP4 sample with the same NAL units (length-prefixed, as MP4
 * stores them), timed by when the relay received it, the first at 0. ffmpeg is the agent's
 * (`FFMPEG_PATH`, `ffmpeg-static`, `@ffmpeg-installer/ffmpeg`, then `PATH`). Rejects with an
 * {@link Mp4ExportError}.
 */
export async function exportMp4(records: AsyncIterable<RecordingRecord>, output: string): Promise<void> {
  let ffmpegPath: string;
  try {
    ffmpegPath = resolveFfmpeg().path;
  } catch (error) {
    throw new Mp4ExportError(
      'no-ffmpeg',
      'The server has no ffmpeg to make an MP4: install ffmpeg (apt install ffmpeg) or set FFMPEG_PATH.',
      { cause: error },
    );
  }
  const ffmpeg = spawn(
    ffmpegPath,
    [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'flv', '-i', 'pipe:0'],
      ...['-map', '0:v', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4', '-y', output],
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8').on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    ffmpeg.once('error', reject);
    ffmpeg.once('close', (code) => resolve(code));
  });
  // ffmpeg may stop reading (it failed): its exit code says why, not the broken pipe.
  ffmpeg.stdin.on('error', () => undefined);
  let start: number | undefined;
  let last = -1;
  try {
    for await (const record of records) {
      if (record.kind !== 'video') continue;
      const decoded = decodeFrame(record.payload);
      if (!decoded.ok || decoded.frame.kind !== 'video') continue;
      const { keyframe, data } = decoded.frame;
      const nals = nalUnits(data);
      if (start === undefined) {
        // The recorder starts at a keyframe; its SPS and PPS make the MP4's decoder configuration.
        const sps = nals.find((nal) => nal.type === NalType.sps);
        const pps = nals.find((nal) => nal.type === NalType.pps);
        if (!keyframe || !sps || !pps) continue;
        start = record.at;
        const config = avcConfig(data.subarray(sps.start, sps.end), data.subarray(pps.start, pps.end));
        await write(ffmpeg.stdin, FLV_HEADER);
        if (!(await write(ffmpeg.stdin, flvTag(0, avcBody(true, AvcPacketType.sequenceHeader, config)))))
          break;
      }
      // FLV counts whole milliseconds; two frames in the same one would not be in order.
      const ms = Math.max(last + 1, Math.round(record.at - start));
      last = ms;
      if (
        !(await write(
          ffmpeg.stdin,
          flvTag(ms, avcBody(keyframe, AvcPacketType.nalUnits, toAvcc(data, nals))),
        ))
      )
        break;
    }
  } finally {
    ffmpeg.stdin.end();
  }
  if (start === undefined) {
    ffmpeg.kill();
    await exited.catch(() => undefined);
    throw new Mp4ExportError('no-video', 'This recording has no video.');
  }
  const code = await exited.catch((error: unknown) => {
    throw new Mp4ExportError('ffmpeg-failed', 'ffmpeg could not be started.', { cause: error });
  });
  if (code !== 0)
    throw new Mp4ExportError(
      'ffmpeg-failed',
      `ffmpeg could not remux the video (exit ${code}): ${stderr.trim()}`,
    );
}
