// The FLV container as the agent reads it from ffmpeg and the control plane writes it for an MP4
// export: one place for its sizes and codes.

/** FLV file header: "FLV", version, flags, header size (4 bytes), in bytes. */
export const FILE_HEADER_BYTES = 9;
/** Tag header: type, data size (3), timestamp (3 + 1 extended), stream id (3), in bytes. */
export const TAG_HEADER_BYTES = 11;
/** PreviousTagSize after the file header and after every tag, in bytes. */
export const TAG_TRAILER_BYTES = 4;
/** Video tag body before the NAL units: frame type and codec, AVCPacketType, composition time, in bytes. */
export const AVC_PAYLOAD_OFFSET = 5;

export const TagType = { audio: 8, video: 9, script: 18 } as const;
export const AVC_CODEC_ID = 7;
export const AvcPacketType = { sequenceHeader: 0, nalUnits: 1, endOfSequence: 2 } as const;
/** Frame types in the high nibble of a video tag's first byte. */
export const FlvFrameType = { keyframe: 1, interFrame: 2 } as const;
