import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Debian's novnc package installs noVNC. */
export const NOVNC_DIR = '/usr/share/novnc';
const VNC_PAGE = fileURLToPath(new URL('./vnc-page.html', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serves the VNC viewer page and noVNC's modules on a port of `host` (loopback by default). */
export interface StaticServer {
  /** The viewer page for a websockify on `port`. */
  vncPageUrl(port: number): string;
  close(): Promise<void>;
}

/**
 * A minimal static server: `/vnc.html` is `vnc-page.html`, `/novnc/…` are files under
 * /usr/share/novnc. Nothing else, and nothing outside that folder.
 */
export async function startStaticServer(host = '127.0.0.1'): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      let file: string | undefined;
      if (path === '/vnc.html') file = VNC_PAGE;
      else if (path.startsWith('/novnc/')) {
        const inside = normalize(path.slice('/novnc/'.length));
        if (!inside.startsWith('..')) file = `${NOVNC_DIR}/${inside}`;
      }
      try {
        if (!file) throw new Error('not found');
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      } catch {
        res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    vncPageUrl: (wsPort) => `http://${host}:${port}/vnc.html?port=${wsPort}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
