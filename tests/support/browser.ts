import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium, or CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Debian's Chromium, headless, with the flags this closed network needs (no background fetches), and
 * any `extraArgs` a test adds (e.g. `--host-resolver-rules=MAP name 127.0.0.1`). `executablePath`
 * replaces the browser with a wrapper (the benchmark's runs it in another network namespace).
 */
export async function launchChromium(extraArgs: string[] = [], executablePath?: string): Promise<Browser> {
  return chromium.launch({
    executablePath: executablePath ?? CHROMIUM_PATH,
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
