// What both benchmark pages share: the interleaved rounds and the report to run.mjs.
const params = new URLSearchParams(location.search);
/** The events each contender reads. */
export const count = Number(params.get('count') ?? 200000);
const rounds = Number(params.get('rounds') ?? 3);
// `only=REGEX`: run just the contenders whose names match (for quick comparisons).
const only = params.has('only') ? new RegExp(params.get('only')) : null;

/** Publishes `body` to the dev server's `bench-results` topic, where run.mjs reads it. */
async function report(body) {
  await fetch('/publish?topic=bench-results', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ event: 'result', data: body }),
  });
}

/**
 * Times each of `contenders` (name -> async function of the round, resolving to its time in
 * ms) once per round, after `setup`, and reports every time, or the error that stopped it.
 */
export async function runRounds(contenders, setup = async () => {}) {
  const out = document.getElementById('out');
  try {
    await setup();
    for (const name of Object.keys(contenders)) {
      if (only && !only.test(name)) delete contenders[name];
    }
    const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
    // Interleaved rounds, so that a slow moment of the machine hits every contender alike.
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, run] of Object.entries(contenders)) {
        // A clean heap for every contender (run.mjs starts Chromium with --expose-gc).
        globalThis.gc?.();
        times[name].push(await run(round));
        out.textContent = JSON.stringify(times, null, 1);
      }
    }
    // `names` keeps the contenders' order (the dev server re-serializes `times` with sorted keys).
    await report({ count, rounds, userAgent: navigator.userAgent, names: Object.keys(contenders), times });
  } catch (error) {
    await report({ error: String(error?.stack ?? error) });
  }
}
