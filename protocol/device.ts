import { z } from 'zod';
import { orderResultSchema } from './device-orders.ts';
import { RESULT_CODES } from './result-codes.ts';
import { TOKEN_KINDS } from './token-kinds.ts';

/**
 * The resident agent's link to the control plane's device hub (`/devices/ws`): JSON text messages,
 * one envelope with a literal `type`, evolved by adding only. The device speaks first with a `hello`
 * carrying its identity token; the hub answers `welcome` (with the heartbeat interval) or `error`
 * and closes. Afterwards the device sends a `heartbeat` each interval, which the hub echoes. The hub
 * may send an `order` (a token signed for this device, see device-orders.ts); the device answers
 * `order-result` with the same `id`. The device also sends a `presence` proof each
 * {@link PRESENCE_ROTATE_SECONDS} (see {@link presenceProofSchema}); the hub answers `presence-used`
 * when one was spent, and the device writes and sends a new one at once.
 */

/** How often the resident agent writes and registers a new presence proof, in seconds. */
export const PRESENCE_ROTATE_SECONDS = 30;

/** How long the hub accepts a presence proof after the device registered it, in seconds. */
export const PRESENCE_LIFETIME_SECONDS = 2 * PRESENCE_ROTATE_SECONDS;

/**
 * A presence proof: 32 random bytes in base64url. The resident agent keeps the current one in a file
 * only local users can read (README, "Elevated tools during any session on the device") and registers
 * it with the hub; a one-shot agent on the same machine sends it at register or join, and the control
 * plane links that session to the device. Single use, short-lived, meaningless on any other machine.
 */
export const presenceProofSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/** The WebSocket path of the device hub. */
export const DEVICE_HUB_PATH = '/devices/ws';

/** How long a device's identity token lives, in seconds: it is signed afresh for every use. */
export const DEVICE_TOKEN_SECONDS = 60;

/**
 * The audience of a device's identity token: its own, so a token signed by one device is refused
 * for any other (and by every other token check of the control plane).
 */
export function deviceAudience(deviceId: string): string {
  return `${TOKEN_KINDS.deviceIdentity.aud}:${deviceId}`;
}

/** What a device reports about itself; shown inert and marked as reported by the device. */
export const deviceReportSchema = z.object({
  hostname: z.string().min(1).max(255),
  os: z.string().max(100).optional(),
  /** The user logged in at the console (the graphical seat or the first terminal), if any. */
  consoleUser: z.string().max(255).optional(),
  agentVersion: z.string().max(50),
});
export type DeviceReport = z.infer<typeof deviceReportSchema>;

export const deviceMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    token: z.string().min(1).max(4096),
    report: deviceReportSchema,
  }),
  z.object({ type: z.literal('welcome'), deviceId: z.string(), heartbeatSeconds: z.number().positive() }),
  z.object({ type: z.literal('heartbeat') }),
  z.object({ type: z.literal('report'), report: deviceReportSchema }),
  z.object({ type: z.literal('error'), code: z.enum(RESULT_CODES), message: z.string().max(500) }),
  z.object({ type: z.literal('order'), id: z.string().min(1).max(64), token: z.string().min(1).max(16_000) }),
  z.object({ type: z.literal('order-result'), id: z.string().min(1).max(64), result: orderResultSchema }),
  z.object({ type: z.literal('presence'), proof: presenceProofSchema }),
  z.object({ type: z.literal('presence-used') }),
]);
export type DeviceMessage = z.infer<typeof deviceMessageSchema>;

/** The longest text frame of the device link, in characters (an order carries three tokens). */
export const MAX_DEVICE_MESSAGE_CHARS = 32_768;

/** A text frame of the device link decoded and validated, or undefined when it is malformed. */
export function decodeDeviceMessage(data: unknown): DeviceMessage | undefined {
  if (typeof data !== 'string' || data.length > MAX_DEVICE_MESSAGE_CHARS) return undefined;
  try {
    const parsed = deviceMessageSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
