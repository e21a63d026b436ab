// A malicious server (or anyone between it and the browser) offers the widget rounds
// meant to single one person out. The widget checks each against the organisation key
// pinned in the embed tag, and against here and now, and refuses before it asks for
// anything.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import {
  BOUND_MS, close, newProfile, offeredRounds, openRound, openWidget, resign, shots, tokenReady, uniqueScope,
} from '../lib/harness.mjs';

after(close);

/// Serves `rounds(real)` instead of the server's own list of open rounds, and records
/// every request the widget makes.
async function maliciousServer(context, rounds) {
  const asked = [];
  context.on('request', (request) => asked.push(request.url()));
  await context.route((url) => url.pathname === '/v1/rounds', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: rounds(await response.json()) });
  });
  return () => asked.filter((url) => url.includes('/v1/token-request') || url.includes('/v1/feedback'));
}

// Leak 3. Genuine rounds, signed by the organisation, that are not for here and now:
// last quarter's round replayed to one person (an anonymity set of one), a round of
// another org unit, and another server's round.
test('a genuine round that is old, of another unit or of another server is refused, asking nothing', async () => {
  const scope = uniqueScope('replay');
  const other = uniqueScope('elsewhere');
  const ours = openRound({ scope });
  const theirs = openRound({ scope: other });
  const rounds = await offeredRounds();
  const round = rounds.find((r) => r.manifest.manifest.round === ours);
  const foreign = rounds.find((r) => r.manifest.manifest.round === theirs);
  const cases = [
    ['last quarter\'s round', resign(round, ['--days-ago', '120']), /not open now/],
    ['a round of another unit', foreign, /no open feedback round for your team/],
    ['another server\'s round', resign(round, ['--issuer', 'candor.elsewhere.example']), /another server/],
  ];
  for (const [what, offered, says] of cases) {
    const context = await newProfile();
    const requests = await maliciousServer(context, () => [offered]);
    const { page, widget } = await openWidget(context, { subject: 'hal', scopes: [scope] });
    await widget.locator('main').getByText(says).waitFor({ timeout: BOUND_MS });
    assert.equal(await widget.getByRole('button', { name: 'Send anonymously' }).count(), 0, what);
    await page.screenshot({ path: join(shots, `widget-refuses-${what.split(' ').pop().replace(/\W/g, '')}.png`) });
    assert.deepEqual(requests(), [], `${what}: the widget asked for a token or sent something`);
    await context.close();
  }
  // The control: the same person, the round as the server signed it: a token is asked for.
  const context = await newProfile();
  const requests = await maliciousServer(context, () => [round]);
  const { widget } = await openWidget(context, { subject: 'hal', scopes: [scope] });
  await tokenReady(widget);
  assert.equal(requests().length, 1, 'the genuine round of today gets its token');
  await context.close();
});

// A malicious server serves one employee a token key of its own — with it, that
// person's token would be told apart from everyone else's — or a manifest it changed.
test('a server that tags one employee with another key or manifest is refused', async () => {
  const scope = uniqueScope('tagging');
  const id = openRound({ scope });
  const cases = [
    ['another RSA-2048 key, in the canonical form', (round) => { round.token_keys = round.token_keys.map(anotherKey); },
      'differs from the one your organisation signed'],
    ['a manifest changed after signing (threshold 1)', (round) => { round.manifest.manifest.threshold = 1; },
      'not signed by your organisation'],
  ];
  for (const [what, change, says] of cases) {
    const context = await newProfile();
    const requests = await maliciousServer(context, (rounds) => rounds.filter((r) => r.manifest.manifest.round === id)
      .map((round) => { change(round); return round; }));
    const { page, widget } = await openWidget(context, { subject: 'ivy', scopes: [scope] });
    await widget.getByRole('alert').filter({ hasText: says }).waitFor({ timeout: BOUND_MS });
    assert.equal(await widget.getByRole('button', { name: 'Send anonymously' }).count(), 0, what);
    await page.screenshot({ path: join(shots, `widget-refuses-${what.split(' ')[1]}.png`), fullPage: true });
    assert.deepEqual(requests(), [], `${what}: something was asked for or sent under a tagged key`);
    await context.close();
  }
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
