// Loads the demo page from a running dev server in headless Chromium, waits until live events
// have arrived through the wasm client, and saves a screenshot to .tmp/demo.png.
// Usage: node scripts/demo-check.mjs http://127.0.0.1:PORT
import { mkdirSync } from 'node:fs';
import { launchChromium } from './chromium.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const want = Number(process.env.DEMO_EVENTS ?? 2);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/`);
  await page.waitForFunction((n) => (window.sseDemo?.received() ?? 0) >= n, want, { timeout: 20_000 });
  const shown = await page.locator('#events li').count();
  const state = await page.locator('#state').textContent();
  mkdirSync('.tmp', { recursive: true });
  await page.screenshot({ path: '.tmp/demo.png' });
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  if (shown < want) throw new Error(`expected ${want} events on the page, saw ${shown}`);
  console.log(`demo page OK: ${shown} live events shown, state ${state} (screenshot .tmp/demo.png)`);
} finally {
  await browser.close();
}
