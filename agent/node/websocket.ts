/**
 * Node 22+ (and Deno, and the packaged agent's runtime) have a global WebSocket. Node 20 has it only
 * behind a flag, so there the `ws` package stands in with the same API.
 */
export async function installWebSocket(): Promise<void> {
  if (typeof globalThis.WebSocket === 'function') return;
  const { WebSocket } = await import('ws');
  (globalThis as { WebSocket: unknown }).WebSocket = WebSocket;
}
