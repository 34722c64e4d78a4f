// Debian's headless Chromium with the flags this closed network needs, two ways:
// `launchChromium()` through playwright-core (DevTools protocol attached: tests that drive
// the page), and `openPage(url)` as a bare process with no DevTools connection (the
// benchmark and the chaos run, whose pages report back over HTTP: DevTools' network
// monitoring slows EventSource several times). Every browser gets a fresh profile.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const executable = () => process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium stalls on this machine's closed network. */
const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Chromium through playwright-core. `backForwardCache`: keep the back/forward cache, which
 * Playwright turns off by default.
 */
export function launchChromium({ backForwardCache = false } = {}) {
  return chromium.launch({
    executablePath: executable(),
    args: FLAGS,
    ...(backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
}

/**
 * Opens `url` in a headless Chromium process of its own (its own process group and a fresh
 * profile), with `extraArgs` added. `close()` kills the whole group (browser, renderers,
 * zygote) and removes the profile; `exitCode()` is `null` while it runs.
 */
export function openPage(url, extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'wasm-sse-chromium-'));
  const child = spawn(executable(), [...FLAGS, ...extraArgs, `--user-data-dir=${profile}`, url], {
    stdio: 'ignore',
    detached: true,
  });
  return {
    exitCode: () => child.exitCode,
    async close(waitMs = 5000) {
      const exited = child.exitCode === null
        ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve();
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, waitMs))]);
      // A helper may still be finishing a write into the profile for a moment.
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
