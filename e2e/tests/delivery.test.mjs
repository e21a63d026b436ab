// From "Send anonymously" to a verified receipt: the queue, its timing, what the
// widget says at each step, and what happens when something goes wrong.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BOUND_MS, candor, candorFrame, close, counts, newProfile, offeredRounds, openRound, openWidget, shots, storage,
  tokenReady, uniqueScope, waitUntil, write,
} from '../lib/harness.mjs';

after(close);

const manifestOf = async (round) => (await offeredRounds()).find((r) => r.manifest.manifest.round === round).manifest.manifest;

/// Moves the page's (installed) clock on in steps until `done`, at most `hours`.
async function runClockUntil(page, done, what, hours = 48) {
  for (let step = 0; step < hours * 6; step += 1) {
    if (await done()) return;
    await page.clock.runFor(10 * 60_000);
  }
  assert.ok(await done(), `${what}: not within ${hours} hours of the page's clock`);
}

// Leak 5. The random delay must end before the round closes, with a margin: an item
// written three hours before the close, in a round whose window is a week, must still
// be delivered before it.
test('feedback written just before the close is delivered before it', async () => {
  const scope = uniqueScope('deadline');
  const round = openRound({ scope, delayMinutes: 7 * 24 * 60 });
  const { closes_at: closesAt } = await manifestOf(round);
  const context = await newProfile();
  const page = await context.newPage();
  await page.clock.install({ time: new Date((closesAt - 3 * 3600) * 1000) });
  const { widget } = await openWidget(context, { subject: 'dora', scopes: [scope], page });
  await tokenReady(widget);
  await write(widget, 'Written on the last afternoon of the round.', 2);
  // Two hours and five minutes on: still before the close.
  for (let i = 0; i < 25; i += 1) await page.clock.runFor(5 * 60_000);
  await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  assert.equal(counts(round).items, 1);
  await context.close();
});

test('the round\'s close is shown in the person\'s own time zone', async () => {
  const scope = uniqueScope('zone');
  const round = openRound({ scope });
  const { closes_at: closesAt } = await manifestOf(round);
  const context = await newProfile({ timezoneId: 'America/Los_Angeles', locale: 'en-US' });
  const { widget } = await openWidget(context, { subject: 'eli', scopes: [scope] });
  await tokenReady(widget);
  const expected = new Date(closesAt * 1000).toLocaleString('en-US', {
    timeZone: 'America/Los_Angeles', hour: 'numeric', minute: '2-digit',
  });
  const spaces = (text) => text.replace(/[\u00a0\u202f]/g, ' ');
  const panel = spaces(await widget.getByRole('region', { name: 'Who reads this' }).innerText());
  assert.ok(panel.includes(spaces(expected)), `the close, ${expected} in Los Angeles, is not in: ${panel}`);
  await context.close();
});

// Leak 5. An item the server refuses is not lost while the page says it was sent: it
// stays, with its reason, until the person retries or discards it.
test('a refused item stays with its reason until the person discards it', async () => {
  const scope = uniqueScope('refused');
  const round = openRound({ scope, delayMinutes: 30 });
  const context = await newProfile();
  const first = await openWidget(context, { subject: 'fay', scopes: [scope] });
  await tokenReady(first.widget);
  await write(first.widget, 'Queued before the operator closed the round.', 5);
  await first.page.close();
  assert.match(candor('round', 'close', round), /released: 0 items/);

  const page = await context.newPage();
  await page.clock.install({ time: new Date() });
  const { widget } = await openWidget(context, { subject: 'fay', scopes: [scope], page });
  const reason = widget.getByText(/round (has )?closed|not open/i).last();
  await runClockUntil(page, async () => (await widget.getByRole('button', { name: 'Discard' }).count()) > 0, 'the refusal');
  await reason.waitFor({ timeout: BOUND_MS });
  assert.equal(await widget.getByText(/you have sent/i).count(), 0, 'the page says it was sent');
  await page.screenshot({ path: join(shots, 'widget-refused.png'), fullPage: true });
  await page.reload();
  await widget.getByRole('button', { name: 'Discard' }).waitFor({ timeout: BOUND_MS });
  assert.ok(await widget.getByRole('button', { name: 'Try again' }).isVisible());
  await widget.getByRole('button', { name: 'Discard' }).click();
  await waitUntil(async () => (await widget.getByRole('button', { name: 'Discard' }).count()) === 0, 'discarding');
  assert.ok(!(await storage(page)).includes('operator closed'), 'the discarded text is still kept');
  await context.close();
});

// Leak 6. Two tabs of one browser send at once: one item must go out once, and both
// tabs must end up saying it was delivered.
test('two tabs sending at once send the item once', async () => {
  const scope = uniqueScope('tabs');
  const round = openRound({ scope, delayMinutes: 600 });
  const context = await newProfile();
  const posts = [];
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await context.route((url) => url.pathname === '/v1/feedback', async (route) => {
    posts.push(route.request().postData());
    if (posts.length === 1) await held; // the first send is in flight while the second tab acts
    await route.continue();
  });
  const one = await openWidget(context, { subject: 'gus', scopes: [scope] });
  await tokenReady(one.widget);
  await write(one.widget, 'Sent from one of two tabs.', 8);
  const two = await openWidget(context, { subject: 'gus', scopes: [scope] });
  await two.widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
  await one.widget.getByRole('button', { name: 'Send now' }).click();
  await waitUntil(async () => posts.length === 1, 'the first send');
  await two.widget.getByRole('button', { name: 'Send now' }).click();
  // Either the second tab sends too (the leak), or it says another tab is sending.
  await waitUntil(async () => posts.length > 1 || (await two.widget.getByText(/another tab/i).count()) > 0,
    'the second tab');
  assert.equal(posts.length, 1, 'the second tab sent the item again while the first was sending it');
  release();
  await one.widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  await two.widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  assert.equal(posts.length, 1, 'the item was sent twice');
  assert.equal(await two.widget.getByText(/already been used|refused/i).count(), 0);
  assert.equal(counts(round).items, 1);
  await context.close();
});

// Leak 6. The item is stored but its answer is lost on the way back: the widget asks
// again with the same submission, gets the same receipt, and says it was delivered —
// never "refused" for feedback that arrived.
test('a lost answer is asked for again, and the same receipt verifies', async () => {
  const scope = uniqueScope('lost');
  const round = openRound({ scope, delayMinutes: 600 });
  const context = await newProfile();
  const posts = [];
  let answered = false;
  await context.route((url) => url.pathname === '/v1/feedback', async (route) => {
    posts.push(route.request().postData());
    if (posts.length === 1) {
      await route.fetch(); // it reaches the server and is stored…
      answered = true;
      await route.abort('connectionreset'); // …and the answer is lost
    } else {
      await route.continue();
    }
  });
  const page = await context.newPage();
  await page.clock.install({ time: new Date() });
  const { widget } = await openWidget(context, { subject: 'hana', scopes: [scope], page });
  await tokenReady(widget);
  await write(widget, 'Stored, but the answer never came back.', 6);
  await widget.getByRole('button', { name: 'Send now' }).click();
  await waitUntil(async () => answered, 'the first send');
  assert.equal(counts(round).items, 1, 'the first send was stored');
  await runClockUntil(page, async () => posts.length >= 2 && (await widget.getByText(/Delivered\.|refused/).count()) > 0,
    'the second attempt', 12);
  assert.equal(await widget.getByText(/refused/).count(), 0, 'feedback that arrived is reported refused');
  await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  assert.deepEqual(posts[1], posts[0], 'the same submission was asked again');
  assert.equal(counts(round).items, 1);
  await context.close();
});

// Leak 2's everyday side: the tab is closed while an item is queued; the item is sent
// later from a page that is open, at a random moment of it.
test('closing the page while a send is queued, then coming back, delivers it', async () => {
  const scope = uniqueScope('revisit');
  const round = openRound({ scope });
  const context = await newProfile();
  const first = await openWidget(context, { subject: 'ida', scopes: [scope] });
  await tokenReady(first.widget);
  await write(first.widget, 'The design review queue is too long.', 6);
  await first.page.close(); // queued, not sent
  assert.deepEqual(counts(round), { tokens: 1, items: 0 });
  const later = await context.newPage();
  await later.clock.install({ time: new Date() });
  const { widget } = await openWidget(context, { subject: 'ida', scopes: [scope], page: later });
  await widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
  await runClockUntil(later, async () => (await widget.getByText('Delivered.').count()) > 0, 'the delivery', 24);
  assert.deepEqual(counts(round), { tokens: 1, items: 1 });
  await context.close();
});

// A token already spent on other feedback (a wallet restored from a backup, say) is
// refused by the server, and the widget says so plainly and keeps the text.
test('a spent token is refused and the widget says so', async () => {
  const scope = uniqueScope('spent');
  openRound({ scope });
  const context = await newProfile();
  const { page, widget } = await openWidget(context, { subject: 'jon', scopes: [scope] });
  await tokenReady(widget);
  const backup = await candorFrame(page).evaluate(() => JSON.stringify(Object.entries(localStorage)));
  await write(widget, 'The first thing I said.', 3);
  await widget.getByRole('button', { name: 'Send now' }).click();
  await widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  await candorFrame(page).evaluate((saved) => {
    localStorage.clear();
    for (const [key, value] of JSON.parse(saved)) localStorage.setItem(key, value);
  }, backup);
  await page.reload();
  await tokenReady(widget);
  await write(widget, 'Trying to say it twice.', 3);
  await widget.getByRole('button', { name: 'Send now' }).click();
  await widget.getByText('its token has already been used').waitFor({ timeout: BOUND_MS });
  await page.screenshot({ path: join(shots, 'widget-spent-token.png'), fullPage: true });
  await context.close();
});
