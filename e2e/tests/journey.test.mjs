// A round from start to finish, as the people in it meet it: employees write through
// the widget on an intranet page (by mouse and by keyboard, with a screen reader's view
// and axe-core audits), the round closes, and the leader reads the digest.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { audit, assertAnnounces } from '../lib/a11y.mjs';
import {
  BOUND_MS, QUESTION, WIDGET, candor, candorFrame, close, counts, env, newProfile, openRound, openWidget, shots,
  tokenReady, uniqueScope, waitUntil, write,
} from '../lib/harness.mjs';

after(close);

// The form as a screen reader meets it, and axe-core's audit of each state: empty,
// with a finding and its redaction button, and after the redaction.
async function accessibleThroughout(page, widget) {
  await tokenReady(widget);
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
  await replace.waitFor({ timeout: BOUND_MS });
  const hint = await box.getAttribute('aria-describedby');
  assert.match(await widget.locator(`[id="${hint}"]`).innerText(), /looks like an e-mail address/);
  await audit(candorFrame(page), 'the widget, with a finding');
  await replace.click();
  assert.equal(await box.inputValue(), 'Ask me at [email] if you want details.');
  await audit(candorFrame(page), 'the widget, after a redaction');
}

test('six employees submit, without cookie or referer; the round closes and the leader reads the six', async () => {
  const root = uniqueScope('journey');
  const [platform, web] = [`${root}/platform`, `${root}/web`];
  const round = openRound({ scope: root, teams: [platform, web] });
  const people = ['ada', 'alan', 'grace', 'edsger', 'barbara', 'ken'];
  const profiles = [];
  for (const [i, person] of people.entries()) {
    const context = await newProfile();
    profiles.push(context);
    const { page, widget } = await openWidget(context, { subject: person, scopes: [platform] });
    if (i === 0) await accessibleThroughout(page, widget);
    await tokenReady(widget);
    await write(widget, `Note ${i + 1} from the platform team: stand-ups run long.`, 5 + i);
    if (i === 0) await audit(candorFrame(page), 'the widget, queued');
    await widget.getByRole('button', { name: 'Send now' }).click();
    await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
    if (i === 0) {
      await audit(candorFrame(page), 'the widget, delivered');
      await page.screenshot({ path: join(shots, 'widget-delivered.png'), fullPage: true });
    }
    await page.close();
  }
  // Two of the web team write too: below k, they are never shown.
  for (const [i, person] of ['margaret', 'dennis'].entries()) {
    const context = await newProfile();
    profiles.push(context);
    const { widget } = await openWidget(context, { subject: person, scopes: [web] });
    await tokenReady(widget);
    await write(widget, i === 0 ? 'The design review queue is too long.' : 'Written with the keyboard alone.', 4);
    await widget.getByRole('button', { name: 'Send now' }).click();
    await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  }
  const requests = (await Promise.all(profiles.flatMap((c) => c.sent)));
  const submissions = requests.filter((r) => r.url.endsWith('/v1/feedback') && r.method === 'POST');
  const issuances = requests.filter((r) => r.url.endsWith('/v1/token-request') && r.method === 'POST');
  assert.equal(submissions.length, 8);
  assert.equal(issuances.length, 8);
  for (const request of requests) {
    assert.equal(request.headers.cookie, undefined, `${request.url} carried a cookie`);
    assert.equal(request.headers.referer, undefined, `${request.url} carried a referer`);
  }
  assert.deepEqual(counts(round), { tokens: 8, items: 8 });

  assert.match(candor('round', 'close', round), /released: 8 items/);
  const link = candor('leader', 'add', '--name', 'Dana Scully', '--scope', root).trim().split('\n').pop();
  const leader = await newProfile();
  const page = await leader.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click({ timeout: BOUND_MS });
  await page.getByRole('heading', { name: `Feedback for ${root}` }).waitFor({ timeout: BOUND_MS });
  const group = page.locator('article.group', { hasText: platform });
  await group.waitFor({ timeout: BOUND_MS });
  assert.equal(await group.locator('li.item').count(), 6);
  for (let i = 1; i <= 6; i += 1) await group.getByText(`Note ${i} from the platform team`).waitFor();
  // The leftover group (the root minus its visible child) is the web team's two items,
  // below k = 5: not shown, not counted, not named.
  assert.equal(await page.getByText('design review queue').count(), 0);
  assert.equal(await page.getByText('keyboard alone').count(), 0);
  assert.equal(await page.getByText(web).count(), 0);
  assert.doesNotMatch(await page.locator('main').innerText(), /\b(2|8) (responses|items)\b/);
  await page.getByText('is never shown here, and this page does not say whether there was any').waitFor();
  await page.locator('svg.chart').first().waitFor();
  await audit(page, 'the digest');
  await assertAnnounces(page.locator('body'), [
    `- heading "Feedback for ${root}"`,
    `- heading "${platform} — 6 responses"`,
    'img "0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1"',
    '- list',
  ], 'the digest');
  await page.screenshot({ path: join(shots, 'digest.png'), fullPage: true });
  assert.ok(!page.url().includes('signin='), 'the sign-in fragment is gone from the address bar');
  for (const context of [...profiles, leader]) await context.close();
});

test('keyboard only: tab in from the host page, write, send, hear the status', async () => {
  const scope = uniqueScope('keyboard');
  openRound({ scope });
  const context = await newProfile();
  const { page, widget } = await openWidget(context, { subject: 'dennis', scopes: [scope] });
  await tokenReady(widget);
  const frame = () => candorFrame(page);
  const focused = () => frame().evaluate(() => {
    const el = document.activeElement;
    return { tag: el?.tagName, text: el?.textContent?.trim() ?? '', outline: el ? getComputedStyle(el).outlineStyle : 'none' };
  });
  async function tabTo(matches, what) {
    for (let i = 0; i < 15; i += 1) {
      await page.keyboard.press('Tab');
      if (matches(await focused())) return focused();
    }
    assert.fail(`Tab never reached ${what}`);
  }
  const radio = await tabTo((f) => f.tag === 'INPUT', 'the rating');
  assert.notEqual(radio.outline, 'none', 'focus is visible');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await tabTo((f) => f.tag === 'TEXTAREA', 'the text box');
  await page.keyboard.type('Web team: written and sent with the keyboard alone.');
  const button = await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Send anonymously', 'the send button');
  assert.notEqual(button.outline, 'none', 'focus is visible');
  await page.keyboard.press('Enter');
  await widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
  await tabTo((f) => f.tag === 'BUTTON' && f.text === 'Send now', 'send now');
  await page.keyboard.press('Enter');
  const status = widget.getByRole('status');
  await status.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  assert.equal(await status.getAttribute('aria-live'), 'polite');
  await page.screenshot({ path: join(shots, 'widget-keyboard.png'), fullPage: true });
  await context.close();
});

// The demo intranet a newcomer opens first: a sign-in list, then a page with the widget.
test('the demo intranet signs a person in and shows the widget in its sidebar', async () => {
  const context = await newProfile();
  const page = await context.newPage();
  await page.goto(`${env.INTRANET_URL}/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: BOUND_MS });
  await audit(page, 'the demo intranet, sign-in');
  await page.screenshot({ path: join(shots, 'demo-sign-in.png'), fullPage: true });
  await page.getByRole('link', { name: /Grace Hopper/ }).click();
  const widget = page.frameLocator(WIDGET);
  await tokenReady(widget);
  await audit(page, 'the demo intranet page');
  await page.screenshot({ path: join(shots, 'demo-intranet.png'), fullPage: true });
  await context.close();
});
