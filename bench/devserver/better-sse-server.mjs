// Peer server for the dev-server load benchmark: the same subset of the protocol
// (GET /events?topic=T as an SSE stream, POST /publish?topic=T with {"event"?, "data"})
// implemented with better-sse on node:http. Loopback only.
//
// Usage: node bench/devserver/better-sse-server.mjs [--port 0]
// Prints one line once bound: "better-sse listening on http://127.0.0.1:PORT".
import http from "node:http";
import { createChannel, createSession } from "better-sse";

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;

const channels = new Map();
const ids = new Map();
const channel = (topic) => {
  let c = channels.get(topic);
  if (!c) {
    c = createChannel();
    channels.set(topic, c);
    ids.set(topic, 0);
  }
  return c;
};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const topic = url.searchParams.get("topic") ?? "demo";
  if (req.method === "GET" && url.pathname === "/events") {
    // Strings are written as-is (no JSON quoting), like the Rust server.
    const session = await createSession(req, res, {
      serializer: (data) => (typeof data === "string" ? data : JSON.stringify(data)),
      keepAlive: 15_000,
      retry: 2000,
    });
    channel(topic).register(session);
    return;
  }
  if (req.method === "POST" && url.pathname === "/publish") {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        res.writeHead(400, { "content-type": "application/json", "content-length": 20 });
        res.end('{"error":"bad JSON"}');
        return;
      }
      const c = channel(topic);
      const id = ids.get(topic) + 1;
      ids.set(topic, id);
      const data = typeof msg.data === "string" ? msg.data : JSON.stringify(msg.data);
      c.broadcast(data, msg.event ?? "message", { eventId: String(id) });
      const reply = JSON.stringify({ id: String(id) });
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(reply),
      });
      res.end(reply);
    });
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end('{"error":"not found"}');
});

server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  const { port: bound } = server.address();
  process.stdout.write(`better-sse listening on http://127.0.0.1:${bound}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
