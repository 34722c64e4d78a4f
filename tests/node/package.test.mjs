// The npm package as a Node user meets it: imported by name, no init call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as sse from 'wasm-sse';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url)));

test('imports by package name and calls into the wasm without an init call', () => {
  assert.equal(typeof sse.version, 'function');
  assert.equal(sse.version(), pkg.version);
});
