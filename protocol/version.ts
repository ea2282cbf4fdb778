/** The wire protocol version carried in every `hello`. Bumped only when a change cannot be made by adding. */
export const PROTOCOL_VERSION = 1;

/** Oldest protocol version a peer of this build still understands. */
export const MIN_PROTOCOL_VERSION = 1;
