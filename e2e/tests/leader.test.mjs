// The leader's side: a one-time sign-in link, and what may use it up.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOUND_MS, candor, close, counts, newProfile, openRound, openWidget, tokenReady, uniqueScope, write,
} from '../lib/harness.mjs';

after(close);

// Mail systems open the links in a message to check them, some in a real browser that
// runs the page's scripts. A link that signs in on its own is used up before the leader
// ever clicks it.
test('a mail scanner that opens the sign-in link does not use it up', async () => {
  const scope = uniqueScope('scanner');
  const link = candor('leader', 'add', '--name', 'Lee Adama', '--scope', scope).trim().split('\n').pop();

  const scanner = await newProfile();
  const scanned = await scanner.newPage();
  const signIns = [];
  scanned.on('request', (request) => {
    if (request.url().endsWith('/v1/leader/sign-in')) signIns.push(request.method());
  });
  await scanned.goto(link);
  // The page has run: it has rendered, and its network is quiet.
  await scanned.locator('#candor-digest > *').first().waitFor({ timeout: BOUND_MS });
  await scanned.waitForLoadState('networkidle', { timeout: BOUND_MS });
  assert.deepEqual(signIns, [], 'opening the link signed in without a click');
  await scanner.close();

  // Later the leader opens it, clicks, and is in; the link then works no more.
  const leader = await newProfile();
  const page = await leader.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click({ timeout: BOUND_MS });
  await page.getByRole('heading', { name: `Feedback for ${scope}` }).waitFor({ timeout: BOUND_MS });
  assert.ok(!page.url().includes('signin='), 'the sign-in fragment is gone from the address bar');
  const again = await (await newProfile()).newPage();
  await again.goto(link);
  await again.getByRole('button', { name: 'Sign in' }).click({ timeout: BOUND_MS });
  await again.getByRole('alert').waitFor({ timeout: BOUND_MS });
  await leader.close();
});

// The digest page gets a round's digest with each group's first page of items (50), and
// the rest a page at a time when the leader asks: every item once, none lost.
test('a team larger than a page shows the rest on request, every item once', async () => {
  const scope = uniqueScope('pages');
  const round = openRound({ scope });
  const total = 53;
  // People write, each in their own browser profile, a few at a time.
  for (let first = 0; first < total; first += 6) {
    await Promise.all([...Array(Math.min(6, total - first)).keys()].map(async (k) => {
      const i = first + k;
      const writer = await newProfile();
      const { widget } = await openWidget(writer, { subject: `writer-${i}`, scopes: [scope] });
      await tokenReady(widget);
      await write(widget, `Paged note number ${i}.`, i % 11);
      await widget.getByRole('button', { name: 'Send now' }).click();
      await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
      await writer.close();
    }));
  }
  assert.deepEqual(counts(round), { tokens: total, items: total });
  assert.match(candor('round', 'close', round), new RegExp(`released: ${total} items`));

  const link = candor('leader', 'add', '--name', 'Paige Turner', '--scope', scope).trim().split('\n').pop();
  const leader = await newProfile();
  const page = await leader.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Sign in' }).click({ timeout: BOUND_MS });
  const group = page.locator('article.group', { hasText: `${scope} — ${total} responses` });
  await group.waitFor({ timeout: BOUND_MS });
  assert.equal(await group.locator('li.item').count(), 50);
  await group.getByText(`50 of ${total} shown.`).waitFor();
  await group.getByRole('button', { name: 'Show 3 more' }).click();
  await group.locator('li.item').nth(total - 1).waitFor({ timeout: BOUND_MS });
  assert.equal(await group.locator('li.item').count(), total);
  assert.equal(await group.getByRole('button', { name: /Show/ }).count(), 0, 'nothing more to show');
  const shown = (await group.locator('li.item p.text').allInnerTexts()).sort();
  const expected = [...Array(total).keys()].map((i) => `Paged note number ${i}.`).sort();
  assert.deepEqual(shown, expected);
  await leader.close();
});
