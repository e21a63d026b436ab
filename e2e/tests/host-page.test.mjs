// What the intranet page around the widget can learn or do: it runs the loader with
// the intranet's privileges, and its own scripts may be hostile.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BOUND_MS, QUESTION, WIDGET, close, env, loader, mint, newProfile, openRound, openWidget, servePage, shots,
  tokenReady, uniqueScope, waitUntil, write,
} from '../lib/harness.mjs';

after(close);

// Leak 1. A hostile host page records every message event, with its time, through a
// whole session. What it hears must be the same for a person who writes, redacts,
// sends and is delivered, for one who only opens the page, and for one who comes back
// after sending: nothing per keystroke, per finding, per state or per delivery.
test('the host page hears the same from the widget whether the person writes or not', async () => {
  const scope = uniqueScope('quiet');
  openRound({ scope });
  const RECORDER = `<script>
    window.heard = [];
    addEventListener('message', (e) => heard.push({ t: performance.now(), origin: e.origin, data: JSON.stringify(e.data) }), true);
  </script>`;
  // Each person has a browser of their own; the writer comes back in hers.
  const profiles = new Map();
  async function session(subject, act) {
    if (!profiles.has(subject)) profiles.set(subject, await newProfile());
    const context = profiles.get(subject);
    const { page, widget } = await openWidget(context, { subject, scopes: [scope], head: RECORDER });
    await widget.getByText('Anonymous feedback', { exact: true }).waitFor({ timeout: BOUND_MS });
    let quietFrom = await page.evaluate(() => performance.now());
    if (act) quietFrom = await act(page, widget);
    // The session ends only once the widget has nothing more to do.
    const heard = await page.evaluate(() => window.heard);
    await page.close();
    const fromWidget = heard.filter((m) => m.origin === env.CANDOR_URL);
    return { messages: fromWidget.map((m) => m.data), late: fromWidget.filter((m) => m.t > quietFrom) };
  }
  const writes = async (page, widget) => {
    await tokenReady(widget);
    const from = await page.evaluate(() => performance.now());
    const box = widget.getByLabel(QUESTION);
    await box.click();
    await page.keyboard.type('Ask me at erin@acme.example, the release is too slow.', { delay: 15 });
    await widget.getByRole('button', { name: 'Replace with [email]' }).click();
    await widget.getByLabel('3', { exact: true }).check();
    await widget.getByRole('button', { name: 'Send anonymously' }).click();
    await widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
    await widget.getByRole('button', { name: 'Send now' }).click();
    await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
    return from;
  };
  const reads = async (page, widget) => {
    await tokenReady(widget);
    return page.evaluate(() => performance.now());
  };
  const writer = await session('erin', writes);
  const reader = await session('frank', reads);
  const returning = await session('erin', null);

  assert.deepEqual(writer.late, [], 'the writer\'s widget spoke to the host page while she wrote and sent');
  assert.deepEqual(writer.messages, reader.messages, 'the host heard a writer differently from a reader');
  assert.deepEqual(returning.messages, reader.messages, 'the host heard someone who had sent differently');
  assert.ok(reader.messages.filter((m) => m.includes('resize')).length <= 1, 'at most one size message');
  for (const context of profiles.values()) await context.close();
});

// Leak 7. The loader runs with the intranet's privileges and reads the assertion and
// the organisation key: it is served under its content hash, pinned with `integrity`,
// and a changed loader does not run.
test('the loader is pinned by its hash, and a changed loader does not run', async () => {
  const scope = uniqueScope('pinned');
  openRound({ scope });
  const pinned = loader();
  assert.ok(pinned.name, 'the loader is served under a content-hashed name (embed-<hash>.js)');
  const bytes = readFileSync(join(env.WEB_DIR, pinned.name));
  const digest = createHash('sha384').update(bytes).digest();
  assert.equal(pinned.name, `embed-${digest.toString('hex').slice(0, 16)}.js`);
  const served = await fetch(pinned.src);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get('access-control-allow-origin'), '*', 'a CORS response, so integrity is checked');
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), bytes);

  const context = await newProfile();
  // The control: the pinned loader runs and the widget shows the organisation key's
  // fingerprint, which employees can compare with the one their organisation publishes.
  const { page, widget } = await openWidget(context, { subject: 'gina', scopes: [scope] });
  await tokenReady(widget);
  const key = Buffer.from(env.ORG_KEY, 'base64url');
  const fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 32).match(/.{4}/g).join(' ');
  await widget.getByText(fingerprint).waitFor({ timeout: BOUND_MS });
  await page.close();

  // A loader changed on the way (or on the server): the browser refuses to run it.
  const tampered = await context.newPage();
  const refused = new Promise((resolve) => tampered.on('console', (message) => {
    if (/integrity/i.test(message.text())) resolve(message.text());
  }));
  await tampered.route(pinned.src, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()) + '\n;window.stolen = document.cookie;';
    await route.fulfill({ response, body });
  });
  const { url } = await servePage(context, { subject: 'gina', scopes: [scope] });
  await tampered.goto(url);
  assert.match(await refused, /integrity/i);
  assert.equal(await tampered.locator(WIDGET).count(), 0, 'the changed loader ran');
  assert.equal(await tampered.evaluate(() => window.stolen), undefined);
  await context.close();
});

// An intranet page whose own scripts are hostile: they try to read what is typed in the
// widget, listen to everything, and, from a frame of another origin, pass the widget a
// forged assertion and the loader a forged resize.
test('a script on the intranet page can neither read, intercept nor impersonate the widget', async () => {
  const scope = uniqueScope('hostile');
  openRound({ scope });
  const assertion = mint('radia', [scope]);
  const context = await newProfile();
  const page = await context.newPage();
  const asked = [];
  page.on('request', (request) => asked.push(request.url()));
  const SPY = `<script>
    window.seen = { messages: [], keys: [] };
    addEventListener('message', (e) => seen.messages.push({ origin: e.origin, data: JSON.stringify(e.data) }), true);
    for (const type of ['keydown', 'keypress', 'input', 'beforeinput']) {
      document.addEventListener(type, (e) => seen.keys.push(type + ':' + (e.key || e.data || '')), true);
    }
  </script>`;
  const { url } = await servePage(context, { subject: 'radia', scopes: [scope], head: SPY, assertion: null });
  await page.route('http://evil.test/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><script>
      parent.frames[0].postMessage({ type: 'candor:assertion', assertion: 'forged.by.another.origin' }, '*');
      parent.postMessage({ type: 'candor:resize', height: 9 }, '*');
    </script>`,
  }));
  await page.goto(url);
  const widget = page.frameLocator(WIDGET);
  await widget.getByText('Waiting for the intranet page to say who you are').waitFor({ timeout: BOUND_MS });
  const frame = page.locator(WIDGET);
  const heightBefore = await frame.evaluate((f) => f.style.height);
  await page.evaluate(() => {
    const evil = document.createElement('iframe');
    evil.src = 'http://evil.test/frame';
    document.body.appendChild(evil);
  });
  await page.waitForFunction(() => window.seen.messages.some((m) => m.origin === 'http://evil.test'));
  // The forged resize reached the loader before this point; the forged assertion, the
  // widget. Neither was obeyed: no token request, the same height, still waiting.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  assert.ok(!asked.some((u) => u.includes('/v1/token-request')), 'a forged assertion from another origin was used');
  assert.equal(await frame.evaluate((f) => f.style.height), heightBefore, 'a forged resize was obeyed');
  await widget.getByText('Waiting for the intranet page to say who you are').waitFor({ timeout: BOUND_MS });

  // The page's own assertion, through the loader's API: now the widget gets its token.
  await page.evaluate((jws) => window.Candor.setAssertion(jws), assertion);
  await tokenReady(widget);
  const box = widget.getByLabel(QUESTION);
  await box.click();
  const secret = 'Only my leaders may read this sentence.';
  await page.keyboard.type(secret);
  assert.equal(await box.inputValue(), secret);
  const reads = await page.evaluate((selector) => {
    const widgetFrame = document.querySelector(selector);
    const out = { contentDocument: widgetFrame.contentDocument };
    for (const [name, read] of [
      ['text', () => widgetFrame.contentWindow.document.body.innerText],
      ['storage', () => widgetFrame.contentWindow.localStorage.getItem('candor.wallet.v2')],
    ]) {
      try { out[name] = read(); } catch (error) { out[name] = error.name; }
    }
    return out;
  }, WIDGET);
  assert.deepEqual(reads, { contentDocument: null, text: 'SecurityError', storage: 'SecurityError' });
  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen.keys, []);
  const fromWidget = seen.messages.filter((m) => m.origin === env.CANDOR_URL);
  assert.ok(fromWidget.length >= 1);
  for (const message of seen.messages) {
    assert.ok(!message.data.includes('leaders may read'), message.data);
    if (message.origin === env.CANDOR_URL) {
      assert.match(message.data, /^\{"type":"candor:(ready|resize)"(,"height":[0-9]+)?\}$/);
    }
  }
  await page.screenshot({ path: join(shots, 'widget-hostile-host.png'), fullPage: true });
  await context.close();
});

// CSP frame-ancestors: only the configured intranet origins may frame the widget. The
// same page, served on the intranet's origin, is the control: there the widget renders.
test('a page on another origin cannot frame the widget', async () => {
  const context = await newProfile();
  const framing = (origin) => `<!doctype html><title>Framing test</title>
    <iframe src="${env.CANDOR_URL}/widget/?org=${env.ORG_KEY}&host=${origin}"></iframe>`;
  await context.route('http://evil.test/**', (route) => route.fulfill({ contentType: 'text/html', body: framing('http://evil.test') }));
  await context.route(`${env.INTRANET_URL}/framing`, (route) => route.fulfill({ contentType: 'text/html', body: framing(env.INTRANET_URL) }));
  async function rendered(url) {
    const page = await context.newPage();
    const failed = new Promise((resolve) => page.on('console', (m) => { if (/frame-ancestors|Refused to frame/i.test(m.text())) resolve(false); }));
    await page.goto(url);
    const child = page.frames().find((f) => f !== page.mainFrame());
    const shown = child.locator('main').waitFor({ timeout: BOUND_MS }).then(() => true, () => false);
    const result = await Promise.race([failed, shown]);
    await page.close();
    return result;
  }
  assert.equal(await rendered(`${env.INTRANET_URL}/framing`), true, 'the intranet may frame the widget');
  assert.equal(await rendered('http://evil.test/page'), false, 'another origin framed the widget');
  await context.close();
});
