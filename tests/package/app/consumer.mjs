// The package in a server-side runtime (Node, Deno, Bun): imported by name from node_modules.
// Arguments: the events URL and the number of events; prints one JSON line with what arrived.
import { SseClient, version } from 'wasm-sse';
import { consume } from './consume.js';

const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';
const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);
const exit = (code) => (globalThis.Deno ? globalThis.Deno.exit(code) : process.exit(code));
try {
  const result = await consume(SseClient, args[0], Number(args[1]));
  console.log(JSON.stringify({ runtime, version: version(), ...result }));
  exit(0);
} catch (e) {
  console.error(`${runtime}: ${e.stack ?? e}`);
  exit(1);
}
