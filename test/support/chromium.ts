/**
 * Headless Chromium for page tests: Debian's `chromium` package (installed by .ci/run), driven
 * by puppeteer-core over a pipe (no port, no browser download). Where it is missing, tests are
 * skipped with a notice, except in CI (`CI` set), where its absence is a failure.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser to use: CHROMIUM_PATH, else the first one installed. */
export function chromiumPath(): string | undefined {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured !== undefined && configured !== '') return configured;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Whether page tests should run here; logs why not, and refuses to skip in CI. */
export function chromiumAvailable(): boolean {
  if (chromiumPath() !== undefined) return true;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') {
    throw new Error('Chromium is not installed, and CI must run the page tests: .ci/run installs Debian\'s chromium package (apt-get install chromium).');
  }
  console.warn('\nNote: Chromium is not installed, so the status page browser test is skipped (apt-get install chromium, or set CHROMIUM_PATH).\n');
  return false;
}

export interface LaunchedChromium {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error('Chromium is not installed');
  const userDataDir = mkdtempSync(join(tmpdir(), 'viva-sync-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    pipe: true,
    userDataDir,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
