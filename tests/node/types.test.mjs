// The hand-written TypeScript declarations: `tsc --strict` on tests/ts/usage.ts, which uses
// the API and marks the mistakes the types must reject with @ts-expect-error.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('tsc --strict accepts the typed usage and rejects the marked mistakes', () => {
  execFileSync(`${root}node_modules/.bin/tsc`, ['-p', 'tests/ts', '--noEmit'], { cwd: root, stdio: 'inherit' });
});
