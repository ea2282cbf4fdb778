export { type AccessUnit, AccessUnitSplitter, NalType, nalUnits, parseSpsCodecString } from './annexb.ts';
export {
  FfmpegNotFoundError,
  type FfmpegNotFoundKind,
  type FfmpegSource,
  findOnPath,
  isFfmpegNotFoundError,
  type ResolvedFfmpeg,
  resolveFfmpeg,
} from './ffmpeg-path.ts';
export { FlvDemuxer } from './flv-demuxer.ts';
export {
  type EncodedAccessUnit,
  type ScreenEncoder,
  type ScreenEncoderConfig,
  type ScreenEncoderExit,
  type ScreenEncoderOptions,
  startScreenEncoder,
} from './screen-encoder.ts';
