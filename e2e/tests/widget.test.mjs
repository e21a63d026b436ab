// End to end, in headless Chromium: the demo intranet embeds the widget from a real
// candor server; employees write; the round closes; the leader reads the digest.
// `cargo xtask test` starts the servers and passes their addresses in the environment.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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
  assert.match(before, new RegExp(`${env.ROUND_ID}.*\\s8\\s+7\\s*$`, 'm'), before);

  const later = await (await contextOf('margaret')).newPage();
  await later.clock.setFixedTime(new Date(Date.now() + 10 * 60_000)); // past the random delay
  const { widget: again } = await openAs('margaret', later);
  await again.getByText('Delivered.').waitFor();
  await later.close();
  const after = candor('round', 'list');
  assert.match(after, new RegExp(`${env.ROUND_ID}.*\\s8\\s+8\\s*$`, 'm'), after);
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
  // The web team's two items are below the threshold: not shown, and the page says so.
  assert.equal(await page.getByText('design review queue').count(), 0);
  assert.equal(await page.getByText('keyboard alone').count(), 0);
  await page.getByText('Some feedback is not shown').waitFor();
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
