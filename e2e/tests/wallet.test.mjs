// Leak 4. What the browser keeps, and for whom. On a shared machine the next person
// must neither see nor spend what the first left; sent text leaves the device; and a
// round's entry goes once the round is over and its retention has passed.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  BOUND_MS, WIDGET, candor, candorFrame, close, counts, env, mint, newProfile, offeredRounds, openRound, openWidget,
  servePage, storage, tokenReady, uniqueScope, write,
} from '../lib/harness.mjs';

after(close);

const ANNA = 'Anna here: only my leaders may read this sentence.';

test('on a shared browser the next person neither sees nor spends the first one\'s feedback', async () => {
  const scope = uniqueScope('shared');
  const round = openRound({ scope, delayMinutes: 600 });
  const machine = await newProfile(); // one browser profile, two people in turn
  const first = await openWidget(machine, { subject: 'anna', scopes: [scope] });
  await tokenReady(first.widget);
  await write(first.widget, ANNA, 4);
  await first.page.close(); // queued, not sent
  assert.equal(counts(round).tokens, 1);

  const second = await openWidget(machine, { subject: 'ben', scopes: [scope] });
  // Settled: either a form to write in, or something about feedback already given.
  await second.widget.getByText(/Send anonymously|You have sent|queued/).first().waitFor({ timeout: BOUND_MS });
  assert.equal(await second.widget.getByText('queued').count(), 0, 'Ben is shown Anna\'s queued feedback');
  assert.equal(await second.widget.getByText('You have sent').count(), 0, 'Ben is told he has sent Anna\'s feedback');
  await tokenReady(second.widget); // his own form, and his own token
  assert.equal(counts(round).tokens, 2, 'Ben was given Anna\'s token instead of his own');
  // What the storage holds says nothing of who: no subject in the clear.
  const kept = await storage(second.page);
  assert.ok(!kept.includes('anna') && !kept.includes('ben'), 'a subject is stored in the clear');
  await second.page.close();

  // Anna again: her feedback is still queued; once sent, its text leaves the device and
  // so does her token (one token-sized value fewer: Ben's stays), while the receipt stays.
  const tokenSized = (text) => (text.match(/[A-Za-z0-9_-]{400,}/g) ?? []).length;
  const again = await openWidget(machine, { subject: 'anna', scopes: [scope] });
  await again.widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
  const before = tokenSized(await storage(again.page));
  await again.widget.getByRole('button', { name: 'Send now' }).click();
  await again.widget.getByText('Delivered.').waitFor({ timeout: BOUND_MS });
  const after = await storage(again.page);
  assert.ok(!after.includes('only my leaders'), 'the sent text is still in the browser');
  assert.equal(tokenSized(after), before - 1, 'the spent token (354 bytes) is still in the browser');
  assert.equal(counts(round).items, 1);
  await again.page.close();
  await machine.close();
});

test('an assertion that is not the intranet\'s word opens nobody\'s feedback', async () => {
  const scope = uniqueScope('forged');
  const round = openRound({ scope, delayMinutes: 600 });
  const machine = await newProfile();
  const first = await openWidget(machine, { subject: 'anna', scopes: [scope] });
  await tokenReady(first.widget);
  await write(first.widget, ANNA, 4);
  await first.page.close(); // queued, not sent

  // Ben, at the shared browser, hands the widget Anna's name: in his own genuine
  // assertion with the payload swapped, and signed by a key the intranet does not have.
  const encode = (json) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const [header, payload, signature] = mint('ben', [scope]).split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const swapped = [header, encode({ ...claims, sub: 'anna' }), signature].join('.');
  const strangerKey = join(env.E2E_OUTPUT, `stranger-${scope}.key`);
  candor('assertion', 'keygen', '--key', strangerKey, '--jwks', `${strangerKey}.jwks`);
  const stranger = candor('assertion', 'mint', '--key', strangerKey, '--subject', 'anna', '--scope', scope,
    '--ttl', '600').trim();
  for (const [what, assertion] of [['a swapped name', swapped], ['a stranger\'s key', stranger]]) {
    const { url } = await servePage(machine, { assertion });
    const page = await machine.newPage();
    await page.goto(url);
    const widget = page.frameLocator(WIDGET);
    await widget.getByText(/can check|queued|Send anonymously/).first().waitFor({ timeout: BOUND_MS });
    assert.equal(await widget.getByText('queued').count(), 0, `${what}: Ben is shown Anna's queued feedback`);
    assert.ok(await widget.getByText(/can check against your organisation/).isVisible(), `${what}: no refusal`);
    await page.close();
  }
  assert.equal(counts(round).tokens, 1, 'a forged assertion was given a token');

  // The control: Anna's own assertion, in the same browser, opens her queued feedback.
  const again = await openWidget(machine, { subject: 'anna', scopes: [scope] });
  await again.widget.getByText('Your feedback is queued').waitFor({ timeout: BOUND_MS });
  await machine.close();
});

test('until the page says who the person is, the widget says it waits for the page', async () => {
  const scope = uniqueScope('waiting');
  openRound({ scope });
  const machine = await newProfile();
  const { url } = await servePage(machine, { assertion: null });
  const page = await machine.newPage();
  await page.goto(url);
  const widget = page.frameLocator(WIDGET);
  await widget.getByText('Waiting for the intranet page to say who you are').waitFor({ timeout: BOUND_MS });
  // The page says it, later: the widget goes on.
  await page.evaluate((jws) => window.Candor.setAssertion(jws), mint('dara', [scope]));
  await tokenReady(widget);
  await machine.close();
});

test('a round\'s entry leaves the browser once the round has closed and its retention passed', async () => {
  const scope = uniqueScope('retention');
  const round = openRound({ scope });
  const offered = (await offeredRounds()).find((r) => r.manifest.manifest.round === round).manifest.manifest;
  const machine = await newProfile();
  const { page, widget } = await openWidget(machine, { subject: 'cleo', scopes: [scope] });
  await tokenReady(widget);
  assert.ok((await storage(page)).includes(round), 'the round\'s entry is kept while it is open');
  await page.close();

  // The browser's clock, a day after the entry's retention ended.
  const later = await machine.newPage();
  const gone = (offered.closes_at + (offered.keep_on_device_days + 1) * 86_400) * 1000;
  await later.clock.install({ time: new Date(gone) });
  const { widget: late } = await openWidget(machine, { subject: 'cleo', scopes: [scope], page: later });
  await late.locator('main').getByText(/not open now|no open feedback round/).waitFor({ timeout: BOUND_MS });
  const kept = await candorFrame(later).evaluate(() => JSON.stringify(localStorage));
  assert.ok(!kept.includes(round), `the round's entry is still kept after its retention: ${kept.slice(0, 200)}`);
  await machine.close();
});
