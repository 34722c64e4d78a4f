// What every consumer of the packed package does, in each runtime: connect to the dev server
// (resuming from the start, so the events the test published before are replayed), decode
// `count` JSON `tick` events and close. Resolves what arrived; rejects on a fatal error or
// after 15 s.
export function consume(SseClient, url, count) {
  return new Promise((resolve, reject) => {
    const client = new SseClient(url, { lastEventId: '0' });
    const got = [];
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`timed out after ${got.length} of ${count} events`));
    }, 15_000);
    client.on('tick', (data, event) => {
      got.push([data.n, event.lastEventId]);
      if (got.length < count) return;
      clearTimeout(timer);
      const transport = client.transport;
      client.close();
      resolve({ transport, readyState: client.readyState, got });
    });
    client.addEventListener('error', (event) => {
      if (!event.error?.fatal) return;
      clearTimeout(timer);
      reject(new Error(`fatal ${event.error.type}: ${event.error.message}`));
    });
  });
}
