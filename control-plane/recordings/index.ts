export { RECORDING_EXTENSION, RECORDINGS_FOLDER, type RecordingRow, Recordings } from './recordings.ts';
export { parseRange, recordingRoutes } from './routes.ts';
export {
  MAX_QUEUED_BYTES,
  MAX_QUEUED_VIDEO_BYTES,
  type RecordingStats,
  SessionRecorder,
} from './session-recorder.ts';
