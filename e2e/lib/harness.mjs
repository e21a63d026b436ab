// What every end-to-end test shares: the real candor server and its CLI (started by
// `cargo xtask e2e`, which passes their addresses in the environment), headless
// Chromium, and intranet pages that embed the real widget the way the README says.
//
// Each test opens its own round for a scope of its own, mints its own assertions and
// serves its own intranet page (on the intranet's origin, which the server lets frame
// the widget), so every test runs alone (`node --test --test-name-pattern=…`) and no
// count depends on another test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = process.env;
for (const name of ['CHROMIUM', 'CANDOR_URL', 'INTRANET_URL', 'CANDOR_BIN', 'CANDOR_CONFIG', 'DEMO_BIN',
  'INTRANET_KEY', 'ORG_KEY', 'ORG_SECRET_KEY', 'WEB_DIR', 'E2E_OUTPUT']) {
  assert.ok(env[name], `${name} must be set (run through cargo xtask e2e)`);
}
export const shots = join(env.E2E_OUTPUT, 'screenshots');
mkdirSync(shots, { recursive: true });

export const QUESTION = 'What should your leaders hear?';
export const WIDGET = 'iframe[title^="Anonymous feedback"]';
/// Every wait is bounded: nothing here should take longer.
export const BOUND_MS = 20_000;

let browser;
export async function launch() {
  browser ??= await chromium.launch({
    executablePath: env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Pages that Playwright itself answers (the intranet pages of these tests) have no
      // address, so Chromium counts them as public and would refuse their requests to
      // the loopback servers before CSP or the widget are even asked. Real intranet pages
      // are unaffected either way; the framing test has a control that must render.
      '--disable-features=LocalNetworkAccessChecks'],
  });
  return browser;
}

export async function close() {
  await browser?.close();
  browser = undefined;
}

/// A browser profile, as one person (or one shared machine) has. A cookie on the candor
/// origin is planted: the widget's requests must never carry it. Every request to the
/// API is recorded with its headers as they went on the wire.
export async function newProfile(options = {}) {
  const context = await (await launch()).newContext(options);
  await context.addCookies([{ name: 'tracker', value: 'should-never-be-sent', url: env.CANDOR_URL }]);
  context.sent = [];
  context.on('request', (request) => {
    if (request.url().startsWith(env.CANDOR_URL + '/v1/')) {
      const [url, method] = [request.url(), request.method()];
      // A request still in flight when its page closes has no headers to read: that is
      // kept as an error (a test that reads its headers then fails on them) instead of
      // an unhandled rejection after the test that made it has ended.
      context.sent.push(request.allHeaders().then(
        (headers) => ({ url, method, headers }),
        (error) => ({ url, method, headers: undefined, error: String(error) })));
    }
  });
  return context;
}

export function candor(...args) {
  return execFileSync(env.CANDOR_BIN, ['--config', env.CANDOR_CONFIG, ...args], { encoding: 'utf8' });
}

/// A scope of this test's own, so that no other test's round is for its people.
export function uniqueScope(name) {
  return `e2e-${name}-${randomBytes(3).toString('hex')}`;
}

/// The day `days` from today (UTC), as `candor round open --closes` takes it.
export function inDays(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/// Opens a round with the real CLI; returns its id.
export function openRound({ scope, teams = [], delayMinutes = 1, closes = inDays(14), rating = 'enps' }) {
  const args = ['round', 'open', '--scope', scope, '--question', QUESTION, '--closes', closes,
    '--send-delay-minutes', String(delayMinutes)];
  for (const team of teams) args.push('--team', team);
  if (rating) args.push('--rating', rating);
  return candor(...args).trim().split('\n').pop();
}

/// The tokens issued and items received for a round, from `candor round list`.
export function counts(round) {
  const line = candor('round', 'list').split('\n').find((l) => l.startsWith(round));
  assert.ok(line, `round ${round} is listed`);
  const [tokens, items] = line.trim().split(/\s+/).slice(-2).map(Number);
  return { tokens, items };
}

/// An eligibility assertion, signed with the intranet's key by the real CLI.
export function mint(subject, scopes) {
  const args = ['assertion', 'mint', '--key', env.INTRANET_KEY, '--subject', subject, '--ttl', '600'];
  for (const scope of scopes) args.push('--scope', scope);
  return candor(...args).trim();
}

/// The host-page loader, as README "Embedding the widget" says to pin it: the one
/// `embed-<hash>.js` in the widget's folder, with its SHA-384 as the integrity value.
export function loader() {
  const names = readdirSync(env.WEB_DIR).filter((name) => /^embed-[0-9a-f]{16}\.js$/.test(name));
  assert.equal(names.length, 1, `exactly one loader in ${env.WEB_DIR}: ${names}`);
  const digest = createHash('sha384').update(readFileSync(join(env.WEB_DIR, names[0]))).digest();
  return { src: `${env.CANDOR_URL}/widget/${names[0]}`, integrity: `sha384-${digest.toString('base64')}`, name: names[0] };
}

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/// The embed tag for an assertion (or none: the page hands it over later).
export function embedTag({ assertion, orgKey = env.ORG_KEY, target = '#feedback' }) {
  const { src, integrity } = loader();
  const attributes = [`src="${escape(src)}"`, `integrity="${integrity}"`, 'crossorigin="anonymous"', 'async',
    `data-target="${escape(target)}"`, `data-org-key="${escape(orgKey)}"`];
  if (assertion) attributes.push(`data-assertion="${escape(assertion)}"`);
  return `<script ${attributes.join(' ')}></script>`;
}

/// An intranet page, served on the intranet's origin, embedding the widget for
/// `subject` of `scopes`. `head` is put before anything else (hostile scripts).
export async function servePage(context, { subject, scopes, head = '', body = '', assertion }) {
  const path = `/e2e/${randomBytes(6).toString('hex')}`;
  const jws = assertion === undefined ? mint(subject, scopes) : assertion;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
    <title>Acme intranet — test page</title>${head}</head><body>
    <main><h1>Acme intranet</h1><div id="feedback"></div>${body}
    ${embedTag({ assertion: jws })}</main></body></html>`;
  await context.route(`${env.INTRANET_URL}${path}`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
  return { url: `${env.INTRANET_URL}${path}`, assertion: jws };
}

/// Opens the widget for `subject` in a new page of `context`.
export async function openWidget(context, { subject, scopes, head, page }) {
  const { url } = await servePage(context, { subject, scopes, head });
  page ??= await context.newPage();
  await page.goto(url);
  return { page, widget: page.frameLocator(WIDGET), url };
}

export function candorFrame(page) {
  const frame = page.frames().find((f) => f.url().startsWith(env.CANDOR_URL));
  assert.ok(frame, 'the widget frame is on the candor origin');
  return frame;
}

/// Waits until the widget holds its token: the send button is enabled.
export async function tokenReady(widget) {
  const send = widget.getByRole('button', { name: 'Send anonymously' });
  await send.waitFor({ timeout: BOUND_MS });
  await assert.doesNotReject(() => waitUntil(() => send.isEnabled(), 'the token'));
  return send;
}

/// Polls `condition` (an async predicate) every 100 ms, for at most BOUND_MS.
export async function waitUntil(condition, what, bound = BOUND_MS) {
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - started > bound) assert.fail(`${what}: not within ${bound} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/// Writes an answer and a rating and queues it.
export async function write(widget, text, rating = 7) {
  await widget.getByLabel(QUESTION).fill(text);
  if (rating !== null) await widget.getByLabel(String(rating), { exact: true }).check();
  await widget.getByRole('button', { name: 'Send anonymously' }).click();
  await widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
}

/// The widget's local storage, as the test (with the browser's own privileges) reads it.
export async function storage(page) {
  return candorFrame(page).evaluate(() => JSON.stringify(Object.fromEntries(Object.entries(localStorage))));
}

/// Every round the server offers, as JSON.
export async function offeredRounds() {
  return (await fetch(`${env.CANDOR_URL}/v1/rounds`)).json();
}

/// A round that a server could replay: the one given, changed and signed again with the
/// organisation's own key (by `candor-demo resign-round`), so it is genuine.
export function resign(round, args) {
  const out = execFileSync(env.DEMO_BIN, ['resign-round', '--org-key', env.ORG_SECRET_KEY, ...args],
    { input: JSON.stringify(round), encoding: 'utf8' });
  return JSON.parse(out);
}
