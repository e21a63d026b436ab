// Accessibility checks, in the real browser: axe-core's WCAG 2.2 A/AA and best-practice
// rules on a frame as rendered (contrast included), and the accessibility tree that a
// screen reader is given.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/// Runs axe-core in `frame` (a Playwright Page or Frame) and fails on any violation.
/// `evaluate` goes through the DevTools protocol, so the page's CSP (no inline or
/// foreign scripts) stays on while the audit runs. Returns how many rules passed.
export async function audit(frame, what) {
  if (!(await frame.evaluate(() => typeof window.axe === 'object'))) {
    await frame.evaluate(AXE);
  }
  const result = await frame.evaluate(
    (values) => window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] }),
    TAGS,
  );
  const problems = result.violations.flatMap((rule) =>
    rule.nodes.map((node) => `${rule.id} (${rule.impact}): ${rule.help} at ${node.target.join(' ')}`));
  assert.deepEqual(problems, [], `axe-core found accessibility problems in ${what}`);
  return result.passes.length;
}

/// Asserts that the accessibility tree of `locator` holds each line, in order: what a
/// screen reader announces (roles, names, states), not how the page looks.
export async function assertAnnounces(locator, lines, what) {
  const tree = await locator.ariaSnapshot();
  let from = 0;
  for (const line of lines) {
    const at = tree.indexOf(line, from);
    assert.ok(at >= 0, `${what}: the accessibility tree lacks "${line}" (after position ${from}):\n${tree}`);
    from = at + line.length;
  }
}
