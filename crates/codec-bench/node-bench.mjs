// Node side of the codec benchmark: eventsource-parser (npm) and wasm-sse-codec compiled
// to wasm32, fed the same 64 KiB chunks as the native run; then prints the combined table.
//
// usage: node node-bench.mjs DATA_DIR WASM_PKG_DIR NATIVE_RESULTS.jsonl
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const [dataDir, pkgDir, nativeResults] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { createParser } = require(require.resolve("eventsource-parser", { paths: [process.cwd()] }));
const { Counter } = require(resolve(pkgDir, "wasm_sse_codec_bench.js"));
const CHUNK = 64 * 1024;

// Identical chunks share one buffer (as a socket read loop refilling its buffers), except
// for the "-cold" rows: see `chunk` in src/main.rs.
function chunks(bytes, share) {
  const seen = new Map();
  const out = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    const c = bytes.subarray(i, Math.min(i + CHUNK, bytes.length));
    if (!share) {
      out.push(c);
      continue;
    }
    const key = Buffer.from(c.buffer, c.byteOffset, c.length).toString("latin1");
    if (!seen.has(key)) seen.set(key, c);
    out.push(seen.get(key));
  }
  return out;
}

function eventsourceParser(input) {
  let events = 0;
  let dataBytes = 0;
  const parser = createParser({
    onEvent(event) {
      events++;
      dataBytes += event.data.length;
    },
  });
  const decoder = new TextDecoder();
  for (const c of input) parser.feed(decoder.decode(c, { stream: true }));
  parser.feed(decoder.decode());
  return events;
}

function wasmCodec(input) {
  const counter = new Counter();
  let events = 0;
  for (const c of input) events = counter.feed(c);
  counter.free();
  return events;
}

function measure(run, budgetMs) {
  const start = performance.now();
  let best = Infinity;
  let events;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const n = run();
    best = Math.min(best, performance.now() - t);
    if (events !== undefined && n !== events) throw new Error("runs disagree");
    events = n;
    if (i >= 2 && performance.now() - start > budgetMs) break;
  }
  return { events, seconds: best / 1000 };
}

const results = readFileSync(nativeResults, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const streams = ["small", "crlf", "large", "large-cold"];
for (const stream of streams) {
  const bytes = new Uint8Array(readFileSync(join(dataDir, `${stream.replace(/-cold$/, "")}.sse`)));
  const input = chunks(bytes, !stream.endsWith("-cold"));
  for (const [parser, run] of [
    ["wasm-sse-codec (wasm in Node)", wasmCodec],
    ["eventsource-parser (Node)", eventsourceParser],
  ]) {
    const { events, seconds } = measure(() => run(input), 3000);
    results.push({ parser, stream, events, bytes: bytes.length, seconds });
  }
}

// The table.
const fmt = (n, unit) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G${unit}` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M${unit}` : `${(n / 1e3).toFixed(1)} k${unit}`);
const ours = (p) => p.startsWith("wasm-sse-codec");
const streamLabel = {
  small: "small: 200k JSON events, LF",
  crlf: "crlf: the same with CRLF",
  large: "large: 2k events of ~64 KiB over 64 lines",
  "large-cold": "large-cold: the same, from a 128 MiB buffer",
};
console.log("| stream | parser | events/s | MB/s | vs fastest peer | vs eventsource-parser |");
console.log("| --- | --- | ---: | ---: | ---: | ---: |");
for (const stream of streams) {
  const rows = results.filter((r) => r.stream === stream);
  for (const r of rows) r.eps = r.events / r.seconds;
  const counts = new Set(rows.map((r) => r.events));
  if (counts.size !== 1) console.error(`warning: parsers disagree on the event count of ${stream}: ${[...counts]}`);
  const peers = rows.filter((r) => !ours(r.parser));
  const best = Math.max(...peers.map((r) => r.eps));
  const esp = rows.find((r) => r.parser.startsWith("eventsource-parser"));
  rows.sort((a, b) => b.eps - a.eps);
  for (const r of rows) {
    const ratio = ours(r.parser) ? `${(r.eps / best).toFixed(2)}x` : "";
    const vsEsp = ours(r.parser) ? `${(r.eps / esp.eps).toFixed(2)}x` : "";
    console.log(`| ${streamLabel[stream]} | ${r.parser} | ${fmt(r.eps, "")} | ${(r.bytes / r.seconds / 1e6).toFixed(0)} | ${ratio} | ${vsEsp} |`);
  }
}
for (const r of results.filter((r) => r.stream.startsWith("long line"))) {
  console.log(`\n${r.parser}, 16 MiB data line ${r.stream.replace("long line, ", "")}: ${(r.bytes / r.seconds / 1e6).toFixed(0)} MB/s`);
}
