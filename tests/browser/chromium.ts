// The system's Chromium for browser tests (Debian's `chromium` package; puppeteer-core downloads
// nothing). CHROMIUM_PATH names another binary.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Where Chromium is, or why there is none. */
export function findChromium(): { path?: string; why?: string } {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const path = candidates.find((p) => existsSync(p));
  return path ? { path } : { why: `no Chromium at ${candidates.join(', ')} (apt-get install chromium, or set CHROMIUM_PATH)` };
}

/**
 * Headless Chromium with WebGPU on (SwiftShader's Vulkan where there is no GPU), and background
 * tabs not throttled: the test's tabs share one window, and a hidden tab's timers would otherwise
 * run at most once a second (a person runs the page in a tab of its own, or keeps it visible).
 */
export function launchChromium(path: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath: path,
    headless: true,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--disable-vulkan-surface', '--enable-unsafe-swiftshader',
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
}
