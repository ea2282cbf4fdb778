import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, with the flags this closed network needs (no background fetches), and
 * any `extraArgs` a test adds (e.g. `--host-resolver-rules=MAP name 127.0.0.1`).
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
