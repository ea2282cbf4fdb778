import { z } from 'zod';

/**
 * The stamp: a signed configuration the control plane appends to each agent executable it serves, so
 * that one build serves every control plane and every session without rebuilding.
 *
 * Layout at the very end of the file (after the executable and its embedded SEA blob, where neither
 * the ELF nor the PE loader looks):
 *
 * ```
 * … executable … | JWT (ASCII, compact JWS) | length of the JWT (uint32, big-endian) | "LIFELINE-STAMP-1"
 * ```
 *
 * Runtime-neutral: no Node imports, so the control plane, the agent and tests share it.
 */

/** The 16 bytes that end a stamped executable. */
export const STAMP_MAGIC = new TextEncoder().encode('LIFELINE-STAMP-1');
/** Bytes after the JWT: its length and the magic. */
export const STAMP_FOOTER_BYTES = 4 + STAMP_MAGIC.length;
/** A stamp is a few hundred bytes; anything near this is not one, in bytes. */
export const MAX_STAMP_JWT_BYTES = 16 * 1024;

/** The executables the control plane builds and serves. */
export const AGENT_PLATFORMS = ['linux-x64', 'win-x64'] as const;
export type AgentPlatform = (typeof AGENT_PLATFORMS)[number];
/** The file each platform's executable is built and served as. */
export const AGENT_FILE_NAMES: Record<AgentPlatform, string> = {
  'linux-x64': 'lifeline-agent-linux-x64',
  'win-x64': 'lifeline-agent-win-x64.exe',
};

/**
 * A session an operator created, carried by the stamp so that the end user types nothing
 * (operator-first flow). Both claims are optional in the stamp; when `sid` is there, `relay` is too.
 */
export const stampSessionSchema = z.object({
  /** The session the agent attaches to. */
  sid: z.string().min(1).max(100),
  /** Where and with what the agent joins the relay: a relay-agent token for `sid`. */
  relay: z.object({ url: z.url({ protocol: /^wss?$/ }), token: z.string().min(1).max(4096) }),
  /** The session's signed policy, which the agent verifies and enforces. */
  policyToken: z.string().min(1).max(8192),
});

/**
 * The claims of a stamp, beyond those jose checks (`aud`, `exp`, `iat`): `iss` is the control plane's
 * public URL (where the agent registers and fetches the JWKS), `sub` the platform the executable was
 * built for, `exe` the SHA-256 of the unstamped executable (base64url) so a stamp cannot be moved onto
 * another build. `spki`, when the control plane serves TLS itself, is its certificate's public key
 * ({@link serverKeyPin}): the agent accepts no other server, whoever vouches for it.
 */
export const stampClaimsSchema = z.object({
  iss: z.url({ protocol: /^https?$/ }),
  sub: z.enum(AGENT_PLATFORMS),
  jti: z.string().min(1),
  exe: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url SHA-256'),
  sid: stampSessionSchema.shape.sid.optional(),
  relay: stampSessionSchema.shape.relay.optional(),
  policyToken: stampSessionSchema.shape.policyToken.optional(),
  spki: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url SHA-256')
    .optional(),
});

export type StampClaims = z.infer<typeof stampClaimsSchema>;

/** What a verified stamp tells the agent. */
export interface StampConfig {
  /** The control plane's public URL, e.g. `https://help.example.org`. */
  server: string;
  /** The signing key the stamp was verified with. */
  kid: string;
  platform: AgentPlatform;
  /** The pin of the server's TLS key ({@link serverKeyPin}), when it serves TLS itself. */
  serverKey?: string;
  /** Present when the download was made for a session an operator created. */
  session?: { id: string; relay: { url: string; token: string }; policyToken?: string };
}

/** The bytes to append to an executable to stamp it with `jwt`. */
export function encodeStampTrailer(jwt: string): Uint8Array {
  const body = new TextEncoder().encode(jwt);
  if (body.length === 0 || body.length > MAX_STAMP_JWT_BYTES)
    throw new RangeError(`a stamp must be 1..${MAX_STAMP_JWT_BYTES} bytes, not ${body.length}`);
  const trailer = new Uint8Array(body.length + STAMP_FOOTER_BYTES);
  trailer.set(body, 0);
  new DataView(trailer.buffer).setUint32(body.length, body.length, false);
  trailer.set(STAMP_MAGIC, body.length + 4);
  return trailer;
}

/**
 * Reads the footer from the last {@link STAMP_FOOTER_BYTES} bytes of a file. Returns the JWT's length,
 * or undefined when the file carries no stamp (no magic, or an impossible length).
 */
export function parseStampFooter(footer: Uint8Array, fileSize: number): number | undefined {
  if (footer.length !== STAMP_FOOTER_BYTES) return undefined;
  for (let i = 0; i < STAMP_MAGIC.length; i++) if (footer[4 + i] !== STAMP_MAGIC[i]) return undefined;
  const length = new DataView(footer.buffer, footer.byteOffset, 4).getUint32(0, false);
  if (length === 0 || length > MAX_STAMP_JWT_BYTES || length + STAMP_FOOTER_BYTES > fileSize)
    return undefined;
  return length;
}

/** True for a compact JWS: three base64url parts. Anything else after the magic is not a stamp. */
export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text);
}

/**
 * The pin of a server's TLS key: SHA-256 of its certificate's SubjectPublicKeyInfo (DER), base64url.
 * It survives a renewed certificate with the same key, and is what a stamp's `spki` claim holds.
 * @example const pin = await serverKeyPin(certificate.publicKey.export({ type: 'spki', format: 'der' }));
 */
export async function serverKeyPin(spkiDer: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(spkiDer)));
  return btoa(String.fromCharCode(...digest))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
