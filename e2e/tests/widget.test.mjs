// End to end, in headless Chromium: the demo intranet embeds the widget from a real
// candor server; employees write; the round closes; the leader reads the digest.
// `cargo xtask test` starts the servers and passes their addresses in the environment.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { audit, assertAnnounces } from '../lib/a11y.mjs';

const env = process.env;
for (const name of ['CHROMIUM', 'CANDOR_URL', 'INTRANET_URL', 'CANDOR_BIN', 'CANDOR_CONFIG', 'ROUND_ID', 'LEADER_LINK', 'E2E_OUTPUT']) {
  assert.ok(env[name], `${name} must be set (run through cargo xtask test)`);
}
const shots = join(env.E2E_OUTPUT, 'screenshots');
mkdirSync(shots, { recursive: true });

const PLATFORM = ['ada', 'alan', 'grace', 'edsger', 'barbara', 'ken'];
const QUESTION = 'What should your leaders hear?';
let browser;
const contexts = new Map(); // one browser profile per employee, as in real life
const sent = []; // every request a widget made to the candor server, with its headers

before(async () => {
  browser = await chromium.launch({
    executablePath: env.CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Pages that Playwright itself answers (the hostile host page, another origin) have
      // no address, so Chromium counts them as public and would refuse their requests to
      // the loopback servers before CSP or the widget are even asked. Real intranet pages
      // are unaffected either way; the framing test has a control that must render.
      '--disable-features=LocalNetworkAccessChecks'],
  });
});

async function contextOf(person) {
  if (!contexts.has(person)) {
    const context = await browser.newContext();
    // A cookie on the candor origin: the widget's requests must never carry it.
    await context.addCookies([{ name: 'tracker', value: 'should-never-be-sent', url: env.CANDOR_URL }]);
    context.on('request', (request) => {
      if (request.url().startsWith(env.CANDOR_URL + '/v1/')) {
        // The headers as they went on the wire, cookies included.
        sent.push(request.allHeaders().then((headers) => ({ url: request.url(), method: request.method(), headers })));
      }
    });
    contexts.set(person, context);
  }
  return contexts.get(person);
}

after(async () => {
  await browser?.close();
});

function candor(...args) {
  return execFileSync(env.CANDOR_BIN, ['--config', env.CANDOR_CONFIG, ...args], { encoding: 'utf8' });
}

async function openAs(person, page) {
  page ??= await (await contextOf(person)).newPage();
  await page.goto(`${env.INTRANET_URL}/?as=${person}`);
  const widget = page.frameLocator('iframe[title^="Anonymous feedback"]');
  return { page, widget };
}

function candorFrame(page) {
  const frame = page.frames().find((f) => f.url().startsWith(env.CANDOR_URL));
  assert.ok(frame, 'the widget frame is on the candor origin');
  return frame;
}

async function write(widget, text, rating) {
  await widget.getByLabel(QUESTION).fill(text);
  await widget.getByLabel(String(rating), { exact: true }).check();
  await widget.getByRole('button', { name: 'Send anonymously' }).click();
  await widget.getByText('Your feedback is queued').waitFor();
}

// The form as a screen reader meets it, and axe-core's audit of each state: empty,
// with a finding and its redaction button, and after the redaction.
async function accessibleThroughout(page, widget) {
  await widget.getByRole('button', { name: 'Send anonymously' }).waitFor();
  await audit(candorFrame(page), 'the widget, empty');
  await assertAnnounces(widget.locator('main'), [
    '- region "Who reads this"',
    '- heading "Anonymous feedback"',
    '- group "How likely are you',
    '- radio "0"',
    '- radio "10"',
    `- textbox "${QUESTION}"`,
    '- button "Send anonymously"',
    '- status',
  ], 'the empty widget');
  const box = widget.getByLabel(QUESTION);
  await box.fill('Ask me at ada@acme.example if you want details.');
  const replace = widget.getByRole('button', { name: 'Replace with [email]' });
  await replace.waitFor();
  // The finding is tied to the text box, so it is read out with it.
  const hint = await box.getAttribute('aria-describedby');
  assert.match(await widget.locator(`[id="${hint}"]`).innerText(), /looks like an e-mail address/);
  await audit(candorFrame(page), 'the widget, with a finding');
  await replace.click();
  assert.equal(await box.inputValue(), 'Ask me at [email] if you want details.');
  await audit(candorFrame(page), 'the widget, after a redaction');
}

test('six employees submit through the iframe, without cookie or referer', async () => {
  for (const [i, person] of PLATFORM.entries()) {
    const { page, widget } = await openAs(person);
    await widget.getByText('Anonymous feedback', { exact: true }).waitFor();
    if (i === 0) await accessibleThroughout(page, widget);
    await write(widget, `Note ${i + 1} from the platform team: stand-ups run long.`, 5 + i);
    if (i === 0) await audit(candorFrame(page), 'the widget, queued');
    await widget.getByRole('button', { name: 'Send now' }).click();
    await widget.getByText('Delivered.').waitFor();
    if (i === 0) {
      await audit(candorFrame(page), 'the widget, delivered');
      await page.screenshot({ path: join(shots, 'widget-delivered.png'), fullPage: true });
    }
    await page.close();
  }
  const requests = await Promise.all(sent);
  const submissions = requests.filter((r) => r.url.endsWith('/v1/feedback') && r.method === 'POST');
  const issuances = requests.filter((r) => r.url.endsWith('/v1/token-request') && r.method === 'POST');
  assert.equal(submissions.length, 6);
  assert.equal(issuances.length, 6);
  for (const request of requests) {
    assert.equal(request.headers.cookie, undefined, `${request.url} carried a cookie`);
    assert.equal(request.headers.referer, undefined, `${request.url} carried a referer`);
  }
});

test('keyboard only: tab in from the host page, write, send, hear the status', async () => {
  const { page, widget } = await openAs('dennis');
  const frame = () => candorFrame(page);
  const send = widget.getByRole('button', { name: 'Send anonymously' });
  await send.waitFor();
  while (!(await send.isEnabled())) await page.waitForTimeout(100);
  const focused = () => frame().evaluate(() => {
    const el = document.activeElement;
    return { tag: el?.tagName, text: el?.textContent?.trim() ?? '', id: el?.id ?? '',
      outline: el ? getComputedStyle(el).outlineStyle : 'none' };
  });
  async function tabTo(matches, what) {
    for (let i = 0; i < 15; i += 1) {
      await page.keyboard.press('Tab');
      const now = await focused();
      if (matches(now)) return now;
    }
    assert.fail(`Tab never reached ${what}`);
  }
  // The rating group is one tab stop; arrow keys choose within it.
  const radio = await tabTo((f) => f.tag === 'INPUT', 'the rating');
  assert.notEqual(radio.outline, 'none', 'focus is visible');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await tabTo((f) => f.tag === 'TEXTAREA', 'the text box');
  await page.keyboard.type('Web team: written and sent with the keyboard alone.');
  const button = await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Send anonymously', 'the send button');
  assert.notEqual(button.outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await widget.getByText('Your feedback is queued').waitFor();
  await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Send now', 'send now');
  await page.keyboard.press('Enter');
  // The outcome is announced: it lands in a polite live region.
  const status = widget.getByRole('status');
  await status.getByText('Delivered.').waitFor();
  assert.equal(await status.getAttribute('aria-live'), 'polite');
  await page.screenshot({ path: join(shots, 'widget-keyboard.png'), fullPage: true });
  await page.close();
});

// A malicious server serves one employee a token key of its own — with it, that
// person's token would be told apart from everyone else's — or a manifest it changed.
// The widget checks both against the organisation's signature and refuses.
test('a server that tags one employee with another key or manifest is refused', async () => {
  const context = await browser.newContext();
  const asked = [];
  context.on('request', (request) => asked.push(request.url()));
  let tamper = () => {};
  const isRounds = (url) => url.origin === env.CANDOR_URL && url.pathname === '/v1/rounds';
  await context.route(isRounds, async (route) => {
    const response = await route.fetch();
    const rounds = await response.json();
    tamper(rounds[0]);
    await route.fulfill({ response, json: rounds });
  });
  const cases = [
    ['another RSA-2048 key, in the canonical form', (round) => { round.token_keys = round.token_keys.map(anotherKey); },
      'differs from the one your organisation signed'],
    ['a manifest changed after signing (threshold 1)', (round) => { round.manifest.manifest.threshold = 1; },
      'not signed by your organisation'],
  ];
  for (const [what, change, says] of cases) {
    tamper = change;
    const page = await context.newPage();
    await page.goto(`${env.INTRANET_URL}/?as=radia`);
    const widget = page.frameLocator('iframe[title^="Anonymous feedback"]');
    await widget.getByRole('alert').filter({ hasText: says }).waitFor();
    assert.equal(await widget.getByRole('button', { name: 'Send anonymously' }).count(), 0, what);
    await page.screenshot({ path: join(shots, `widget-refuses-${what.split(' ')[1]}.png`), fullPage: true });
    await page.close();
  }
  const tokenRequests = asked.filter((url) => url.includes('/v1/token-request') || url.includes('/v1/feedback'));
  assert.deepEqual(tokenRequests, [], 'nothing was asked for or sent under a tagged key');
  await context.close();
});

/// The same SPKI prefix and exponent with another key's modulus: a well-formed,
/// canonical token key that is not the round's.
function anotherKey(tokenKey) {
  const spki = Buffer.from(tokenKey, 'base64url');
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const n = Buffer.from(publicKey.export({ format: 'jwk' }).n, 'base64url');
  assert.equal(n.length, 256);
  const other = Buffer.concat([spki.subarray(0, 81), n, spki.subarray(337)]);
  assert.equal(other.length, 342);
  const encoded = other.toString('base64url');
  return tokenKey.endsWith('=') ? encoded + '='.repeat((4 - (encoded.length % 4)) % 4) : encoded;
}

// An intranet page whose own scripts are hostile: they try to read what is typed in the
// widget, listen to everything, and, from a frame of another origin, pass the widget a
// forged assertion and the loader a forged resize. The page itself is served on the
// intranet's origin (Playwright answers for it), embedding the real widget.
test('a script on the intranet page can neither read, intercept nor impersonate the widget', async () => {
  const real = await (await fetch(`${env.INTRANET_URL}/?as=radia`)).text();
  const attribute = (name) => real.match(new RegExp(`${name}="([^"]+)"`))[1];
  const [scope, orgKey, assertion] = ['data-scope', 'data-org-key', 'data-assertion'].map(attribute);
  const context = await contextOf('radia');
  const page = await context.newPage();
  const asked = [];
  page.on('request', (request) => asked.push(request));
  await page.route(`${env.INTRANET_URL}/hostile`, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><html lang="en"><head><title>Hostile intranet page</title></head><body>
      <h1>Hostile intranet page</h1>
      <script>
        window.seen = { messages: [], keys: [] };
        addEventListener('message', (e) => seen.messages.push({ origin: e.origin, data: JSON.stringify(e.data) }), true);
        for (const type of ['keydown', 'keypress', 'input', 'beforeinput']) {
          document.addEventListener(type, (e) => seen.keys.push(type + ':' + (e.key || e.data || '')), true);
        }
      </script>
      <script src="${env.CANDOR_URL}/widget/embed.js" async data-scope="${scope}" data-org-key="${orgKey}"></script>
    </body></html>`,
  }));
  await page.route('http://evil.test/**', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><script>
      parent.frames[0].postMessage({ type: 'candor:assertion', assertion: 'forged.by.another.origin' }, '*');
      parent.postMessage({ type: 'candor:resize', height: 9 }, '*');
    </script>`,
  }));
  await page.goto(`${env.INTRANET_URL}/hostile`);
  const widget = page.frameLocator('iframe[title^="Anonymous feedback"]');
  await widget.getByText("Getting this browser's anonymous token").waitFor();
  const frame = page.locator('iframe[title^="Anonymous feedback"]');
  const heightBefore = await frame.evaluate((f) => f.style.height);

  // Another origin speaks to the widget and to the loader: both ignore it.
  await page.evaluate(() => {
    const evil = document.createElement('iframe');
    evil.src = 'http://evil.test/frame';
    document.body.appendChild(evil);
  });
  await page.waitForFunction(() => window.seen.messages.some((m) => m.origin === 'http://evil.test'));
  await page.waitForTimeout(1500);
  assert.ok(!asked.some((r) => r.url().includes('/v1/token-request')), 'a forged assertion from another origin was used');
  assert.equal(await frame.evaluate((f) => f.style.height), heightBefore, 'a forged resize was obeyed');
  await widget.getByText("Getting this browser's anonymous token").waitFor();

  // The page's own assertion, through the loader's API: now the widget gets its token.
  await page.evaluate((jws) => window.Candor.setAssertion(jws), assertion);
  const send = widget.getByRole('button', { name: 'Send anonymously' });
  while (!(await send.isEnabled())) await page.waitForTimeout(100);
  const box = widget.getByLabel(QUESTION);
  await box.click();
  const secret = 'Only my leaders may read this sentence.';
  await page.keyboard.type(secret);
  assert.equal(await box.inputValue(), secret);

  // Reading the widget's document or storage from the page: refused by the browser.
  const reads = await page.evaluate(() => {
    const widgetFrame = document.querySelector('iframe[title^="Anonymous feedback"]');
    const out = { contentDocument: widgetFrame.contentDocument };
    for (const [name, read] of [
      ['text', () => widgetFrame.contentWindow.document.body.innerText],
      ['storage', () => widgetFrame.contentWindow.localStorage.getItem('candor.wallet.v1')],
    ]) {
      try { out[name] = read(); } catch (error) { out[name] = error.name; }
    }
    return out;
  });
  assert.deepEqual(reads, { contentDocument: null, text: 'SecurityError', storage: 'SecurityError' });

  // What reached the page's listeners: not one keystroke, and from the widget only
  // "ready" and its height — never a word of the text.
  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen.keys, []);
  const fromWidget = seen.messages.filter((m) => m.origin === env.CANDOR_URL);
  assert.ok(fromWidget.length >= 2);
  for (const message of seen.messages) {
    assert.ok(!message.data.includes('leaders may read'), message.data);
    if (message.origin === env.CANDOR_URL) {
      assert.match(message.data, /^\{"type":"candor:(ready|resize)"(,"height":[0-9.]+)?\}$/);
    }
  }
  await page.screenshot({ path: join(shots, 'widget-hostile-host.png'), fullPage: true });
  await page.close();
});

// CSP frame-ancestors: only the configured intranet origins may frame the widget. The
// same page, served on the intranet's origin, is the control: there the widget renders.
test('a page on another origin cannot frame the widget', async () => {
  const context = await browser.newContext();
  const framing = (origin) => `<!doctype html><title>Framing test</title>
    <iframe src="${env.CANDOR_URL}/widget/?scope=acme/eng/web&org=x&host=${origin}"></iframe>`;
  await context.route('http://evil.test/**', (route) => route.fulfill({ contentType: 'text/html', body: framing('http://evil.test') }));
  await context.route(`${env.INTRANET_URL}/framing`, (route) => route.fulfill({ contentType: 'text/html', body: framing(env.INTRANET_URL) }));
  async function rendered(url) {
    const page = await context.newPage();
    await page.goto(url);
    const child = page.frames().find((f) => f !== page.mainFrame());
    await child.waitForLoadState('load');
    await page.waitForTimeout(500);
    const shown = child.url().startsWith(env.CANDOR_URL) && (await child.locator('main').count()) > 0;
    await page.close();
    return shown;
  }
  assert.equal(await rendered(`${env.INTRANET_URL}/framing`), true, 'the intranet may frame the widget');
  assert.equal(await rendered('http://evil.test/page'), false, 'another origin framed the widget');
  await context.close();
});

test('a spent token is refused and the widget says so', async () => {
  const { page, widget } = await openAs('ada');
  await widget.getByText('You have sent your feedback for this round').waitFor();
  // Restore the wallet as it was before sending (say, from a backup): the token is the
  // one already spent.
  await candorFrame(page).evaluate(() => {
    const wallet = JSON.parse(localStorage.getItem('candor.wallet.v1'));
    wallet.rounds.forEach((round) => { round.used = false; });
    localStorage.setItem('candor.wallet.v1', JSON.stringify(wallet));
  });
  await page.reload();
  await write(widget, 'Trying to say it twice.', 3);
  await widget.getByRole('button', { name: 'Send now' }).click();
  await widget.getByText('its token has already been used').waitFor();
  await page.screenshot({ path: join(shots, 'widget-spent-token.png'), fullPage: true });
  await page.close();
});

test('closing the page while a send is queued, then coming back, delivers it', async () => {
  const { page, widget } = await openAs('margaret');
  await write(widget, 'Web team: the design review queue is too long.', 6);
  await page.close(); // queued, not sent
  const before = candor('round', 'list');
  // Tokens: everyone but the tagged page's visit (radia got hers on the hostile page).
  assert.match(before, new RegExp(`${env.ROUND_ID}.*\\s9\\s+7\\s*$`, 'm'), before);

  const later = await (await contextOf('margaret')).newPage();
  await later.clock.setFixedTime(new Date(Date.now() + 10 * 60_000)); // past the random delay
  const { widget: again } = await openAs('margaret', later);
  await again.getByText('Delivered.').waitFor();
  await later.close();
  const after = candor('round', 'list');
  assert.match(after, new RegExp(`${env.ROUND_ID}.*\\s9\\s+8\\s*$`, 'm'), after);
});

test('the round closes and the leader reads all six items in the digest', async () => {
  assert.match(candor('round', 'close', env.ROUND_ID), /released: 8 items/);
  const page = await (await contextOf('leader')).newPage();
  await page.goto(env.LEADER_LINK);
  await page.getByRole('heading', { name: 'Feedback for acme/eng' }).waitFor();
  const platform = page.locator('article.group', { hasText: 'acme/eng/platform' });
  await platform.waitFor();
  assert.equal(await platform.locator('li.item').count(), 6);
  for (let i = 1; i <= 6; i += 1) {
    await platform.getByText(`Note ${i} from the platform team`).waitFor();
  }
  // The leftover group: acme/eng minus its visible child, platform, leaves the web
  // team's two items, below k = 5. Not shown, not counted, not named — and the page
  // says, as it does for every round, that small teams are never shown.
  assert.equal(await page.getByText('design review queue').count(), 0);
  assert.equal(await page.getByText('keyboard alone').count(), 0);
  assert.equal(await page.getByText('acme/eng/web').count(), 0);
  assert.doesNotMatch(await page.locator('main').innerText(), /\b(2|8) (responses|items)\b/);
  await page.getByText('is never shown here, and this page does not say whether there was any').waitFor();
  await page.locator('svg.chart').first().waitFor();
  await audit(page, 'the digest');
  await assertAnnounces(page.locator('body'), [
    '- heading "Feedback for acme/eng"',
    '- heading "acme/eng/platform — 6 responses"',
    // The chart is announced with its counts: ratings 5 to 10, one each.
    'img "0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1"',
    '- list',
  ], 'the digest');
  await page.screenshot({ path: join(shots, 'digest.png'), fullPage: true });
  // The sign-in link worked once; the fragment is gone from the address bar.
  assert.ok(!page.url().includes('signin='));
  await page.close();
});
