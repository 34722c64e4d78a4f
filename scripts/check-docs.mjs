// The docs check of the test command, offline:
//
// 1. Every relative link and anchor in the Markdown docs resolves (remark-validate-links, run
//    through remark-cli; links to this repository's GitHub URLs are checked as local files,
//    other URLs are not fetched).
// 2. The code blocks of the testing guide are the code of real tests: each block that follows
//    a `<!-- test: PATH#NAME -->` comment must equal the lines between `guide:start NAME` and
//    `guide:end NAME` in PATH, and every such region must be in the guide.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const docs = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'docs/', 'crates/codec/README.md', 'crates/devserver/README.md',
  'crates/hooks/README.md', 'crates/leptos/README.md', 'crates/yew/README.md', 'crates/npm/README.md'];
let failed = false;

// 1. Links and anchors.
try {
  execFileSync(join(root, 'node_modules/.bin/remark'), ['--quiet', '--frail', '--no-color', '--no-stdout',
    '--use', "remark-validate-links=repository:'wasm-sse/wasm-sse'", ...docs],
  { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  console.log(`links and anchors: every one resolves (${docs.join(', ')})`);
} catch (e) {
  console.error(`links and anchors: broken ones\n${e.stderr ?? e}`);
  failed = true;
}

// 2. The testing guide's code blocks against the tests they come from.
const guide = 'docs/testing.md';
const sources = ['tests/guide.rs', 'tests/node/guide.test.mjs'];
const text = readFileSync(join(root, guide), 'utf8');
const marked = [...text.matchAll(/<!-- test: ([^#\s]+)#(\S+) -->\s*\n```[a-z]*\n([\s\S]*?)```/g)];
const regions = new Map();
for (const file of sources) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  let name = null;
  let body = [];
  for (const line of lines) {
    const start = /guide:start (\S+)/.exec(line);
    const end = /guide:end (\S+)/.exec(line);
    if (start) [name, body] = [start[1], []];
    else if (end && end[1] === name) {
      regions.set(`${file}#${name}`, `${body.join('\n')}\n`);
      name = null;
    } else if (name) body.push(line);
  }
  if (name) {
    console.error(`${file}: guide:start ${name} has no guide:end`);
    failed = true;
  }
}
const shown = new Set();
for (const [, file, name, block] of marked) {
  const key = `${file}#${name}`;
  shown.add(key);
  if (!regions.has(key)) {
    console.error(`${guide}: the block marked ${key} names no guide region of ${sources.join(' or ')}`);
    failed = true;
  } else if (regions.get(key) !== block) {
    console.error(`${guide}: the block marked ${key} differs from the test's code; copy it from ${file}`);
    failed = true;
  }
}
for (const key of regions.keys()) {
  if (!shown.has(key)) {
    console.error(`${guide}: the test region ${key} is not shown in the guide`);
    failed = true;
  }
}
if (!failed) console.log(`${guide}: ${marked.length} code blocks, each the code of a real test (${[...shown].join(', ')})`);
process.exit(failed ? 1 : 0);
