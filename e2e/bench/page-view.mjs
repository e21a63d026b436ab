// What a page view costs, measured in headless Chromium against the real server and the
// demo intranet (run by `cargo xtask bench`, with the environment of `cargo xtask e2e`;
// the demo's round gives each of its 9 people three tokens). For 20 fresh browser
// profiles, the first page view (nothing cached) and a second one (the same profile,
// later), each from the navigation until the widget's question is shown (interactive)
// and until it holds its token (ready to send), and the bytes that crossed the wire from
// the candor origin (headers and bodies, compressed as sent). The intranet's page is the
// demo's real one, not a routed one: Playwright turns the HTTP cache off in a context
// that routes requests. Prints one `page-view {json}` line with the medians.

import { env, newProfile, tokenReady, QUESTION, WIDGET, close } from '../lib/harness.mjs';

const RUNS = 20;
const PEOPLE = ['ada', 'alan', 'grace', 'edsger', 'barbara', 'ken', 'margaret', 'dennis', 'radia'];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function view(context, person) {
  let bytes = 0;
  let requests = 0;
  const pending = [];
  const count = (request) => {
    if (!request.url().startsWith(env.CANDOR_URL)) return;
    requests += 1;
    pending.push(request.sizes().then((s) => { bytes += s.responseHeadersSize + s.responseBodySize; }, () => {}));
  };
  context.on('requestfinished', count);
  const page = await context.newPage();
  const started = performance.now();
  await page.goto(`${env.INTRANET_URL}/?as=${person}`);
  const widget = page.frameLocator(WIDGET);
  await widget.getByLabel(QUESTION).waitFor({ timeout: 20_000 });
  const interactive = performance.now() - started;
  await tokenReady(widget);
  const ready = performance.now() - started;
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);
  context.off('requestfinished', count);
  await page.close();
  return { interactive, ready, bytes, requests };
}

const first = [];
const second = [];
for (let i = 0; i < RUNS; i += 1) {
  const context = await newProfile();
  const person = PEOPLE[i % PEOPLE.length];
  first.push(await view(context, person));
  second.push(await view(context, person));
  await context.close();
}
await close();
const summary = (views) => ({
  interactive_ms: median(views.map((v) => v.interactive)),
  ready_ms: median(views.map((v) => v.ready)),
  bytes: median(views.map((v) => v.bytes)),
  requests: median(views.map((v) => v.requests)),
});
console.log(`page-view ${JSON.stringify({ runs: RUNS, first: summary(first), second: summary(second) })}`);
