// The leader's side: a one-time sign-in link, and what may use it up.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BOUND_MS, candor, close, newProfile, uniqueScope } from '../lib/harness.mjs';

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
