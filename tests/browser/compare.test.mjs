// Browser tests of issue 23, "inside and outside at once": a relay started with --compare-with URL offers
// the internet's view beside its own, and the report shows both. Run with `node --test tests/browser/`.
//
// The Rust integration test (relay/tests/browser.rs) starts the lab, a relay "outside" (`migcheck serve`
// that answers MIGCHECK_COMPARE_HOST with a reverse proxy that sends /EWS/ and /autodiscover/ to a login
// page) and a relay "inside" started with --compare-with that outside relay, and sets:
//   MIGCHECK_URL            a relay without --compare-with (offers no comparison)
//   MIGCHECK_COMPARE_URL    where the inside relay serves the page (http://127.0.0.1:PORT/)
//   MIGCHECK_COMPARE_WITH   the outside relay's URL, as the inside relay names it
//   MIGCHECK_COMPARE_HOST   the lab's healthy Exchange server (port 443), which only the inside relay reaches
// The second test needs only MIGCHECK_URL: it answers the relay's info and the diagnosis itself
// (page.route), so no diagnosis reaches a relay. Only loopback is ever reached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chooseMode, launch } from './browser.mjs';

const env = process.env;
const URL = env.MIGCHECK_URL;
const COMPARE = { url: env.MIGCHECK_COMPARE_URL, with: env.MIGCHECK_COMPARE_WITH, host: env.MIGCHECK_COMPARE_HOST };
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ARTIFACTS = fileURLToPath(new globalThis.URL('../../target/browser-artifacts/', import.meta.url));
/** A comparison runs the diagnosis here and asks the outside relay: give it longer than one run. */
const RUN_TIMEOUT = 60_000;
const SECRET = 'C0mpare-s3cret!';

const needs = (...names) => {
  const missing = names.filter((n) => !env[n]);
  return missing.length ? `${missing.join(', ')} not set: these tests are run by the Rust integration test that starts the relays and the lab` : false;
};


/** Opens `url` and waits until the relay has said what it is (the compare box depends on it). */
async function open(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#wizard', { timeout: 10_000 });
  await page.waitForSelector('#relay-version', { timeout: 10_000 });
}


/** Collects the URL of every diagnosis the page asks for. */
function watchDiagnoses(page) {
  const urls = [];
  page.on('request', (r) => {
    if (new globalThis.URL(r.url()).pathname === '/api/v1/diagnose') urls.push(r.url());
  });
  return urls;
}

/** What the page shows, for a failure message. */
async function pageState(page, errors) {
  const text = await page.evaluate(() => document.querySelector('main')?.innerText ?? '(no main)');
  return `${text}${errors.length ? `\n${errors.join('\n')}` : ''}`;
}

/** Clicks Run and waits for this run's verdict (not the last run's, still shown until the answer comes). */
async function runAndWait(page, errors, what, timeout = RUN_TIMEOUT) {
  const answered = page.waitForResponse((r) => new globalThis.URL(r.url()).pathname === '/api/v1/diagnose', { timeout });
  await page.click('#run');
  try {
    await answered;
    await page.waitForSelector('#verdict', { state: 'visible', timeout });
    await page.waitForSelector('#run:not([disabled])', { timeout });
  } catch {
    assert.fail(`${what}: no verdict within ${timeout / 1000} s\n${await pageState(page, errors)}`);
  }
}

/** Runs axe-core on the page; fails on serious or critical violations. */
async function axe(page, what) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe found serious or critical violations on ${what}:\n${JSON.stringify(bad, null, 2)}`);
}

test('a relay started with --compare-with shows the internet\'s view first: a proxy that pre-authenticates only from outside', { skip: needs('MIGCHECK_URL', 'MIGCHECK_COMPARE_URL', 'MIGCHECK_COMPARE_WITH', 'MIGCHECK_COMPARE_HOST'), timeout: 120_000 }, async (t) => {
  // CSP bypassed only so that axe-core can be injected at the end.
  const { page, errors } = await launch(t, { bypassCSP: true });
  // A relay with no other relay to compare with offers nothing.
  await open(page, URL);
  await chooseMode(page, 'host');
  assert.equal(await page.locator('#compare').count(), 0, 'the compare box on a relay without --compare-with');

  await open(page, COMPARE.url);
  await chooseMode(page, 'host');
  await page.waitForSelector('#compare', { state: 'visible', timeout: 5_000 });
  assert.equal(await page.isChecked('#compare'), false, 'the compare box is ticked by default');
  const label = await page.textContent('label[for="compare"]');
  assert.ok(label.startsWith("Compare with the internet's view") && label.includes(COMPARE.with), `the label does not name ${COMPARE.with}: ${label}`);
  assert.match(await page.textContent('#compare-help'), /Only the public name .* not the password/);
  await page.fill('#host', COMPARE.host);
  await page.check('#compare');
  assert.equal(await page.locator('#send-password').count(), 0, 'the password box in the host mode, which has no password');
  const diagnoses = watchDiagnoses(page);
  await runAndWait(page, errors, `a comparison of ${COMPARE.host}`);
  assert.deepEqual(diagnoses.map((u) => new globalThis.URL(u).search), ['?compare=outside']);

  // The verdict is the outside view's: what Exchange Online sees.
  const state = async () => pageState(page, errors);
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'fail', `the verdict\n${await state()}`);
  const headline = await page.textContent('#verdict h2');
  assert.ok(headline.startsWith('From the internet'), `the headline: ${headline}`);
  // "Inside and outside", above the findings: what went out, where the password went, the outside verdict.
  await page.waitForSelector('#comparison', { state: 'visible', timeout: 5_000 });
  assert.equal(await page.textContent('#comparison h2'), 'Inside and outside');
  const order = await page.evaluate(() => {
    const at = (sel) => [...document.querySelectorAll('#report *')].indexOf(document.querySelector(sel));
    return { verdict: at('#verdict'), comparison: at('#comparison'), findings: at('#findings') };
  });
  assert.ok(order.verdict >= 0 && order.verdict < order.comparison, `the verdict before the comparison: ${JSON.stringify(order)}`);
  if (order.findings >= 0) assert.ok(order.comparison < order.findings, `the comparison before the findings: ${JSON.stringify(order)}`);
  // The relay's sentence: what was compared, and that the password stayed here.
  assert.equal(await page.textContent('#comparison-sent'),
    `Compared with the view from the relay at ${COMPARE.with}: the checks that need no password (the password stayed here); 5 differences, 4 of which matter.`);
  assert.match(await page.getAttribute('#comparison-outside', 'class'), /\bverdict fail\b/);
  assert.match(await page.textContent('#comparison-outside'), /^From the internet: Fail\. /);
  // The differences, most serious first: /EWS/mrsproxy.svc pre-authenticated outside only, with its fix.
  const mrs = page.locator('#differences > li', { hasText: 'at paths.mrsproxy' });
  assert.equal(await mrs.count(), 1, `no difference at paths.mrsproxy\n${await state()}`);
  const said = await mrs.textContent();
  assert.match(said, /^failexternal access at paths\.mrsproxy/, said);
  assert.ok(said.includes('pre-authenticates this path'), said);
  assert.match(said, /Inside: .*Exchange/, said);
  assert.match(said, /Outside: .*a device in front/, said);
  assert.match(await mrs.locator('.fix pre').textContent(), /\/ews\/mrsproxy\.svc/i);
  assert.equal(await mrs.locator('.copy-fix').count(), 1, 'no Copy beside the fix');
  const severities = await page.$$eval('#differences > li .cause .badge', (els) => els.map((e) => e.textContent));
  const rank = { fail: 0, warn: 1, info: 2 };
  assert.deepEqual([...severities].sort((a, b) => rank[a] - rank[b]), severities, 'the differences are not most serious first');
  // Every check side by side: the differing row marked, pass inside, fail outside.
  assert.equal(await page.isVisible('#side-by-side'), true, 'no side-by-side table');
  assert.deepEqual(await page.$$eval('#side-by-side thead th', (els) => els.map((e) => e.textContent)), ['Check', 'Inside', 'Outside']);
  const row = page.locator('#side-by-side tbody tr', { hasText: '(paths.mrsproxy)' });
  assert.equal(await row.count(), 1, `no row for paths.mrsproxy\n${await state()}`);
  assert.deepEqual(await row.locator('td').allTextContents(),
    [`≠ Who answers https://${COMPARE.host}/EWS/mrsproxy.svc (paths.mrsproxy)`, 'pass', 'fail']);
  const same = page.locator('#side-by-side tbody tr', { hasText: '(paths.rpc)' });
  assert.ok(!(await same.locator('td').first().textContent()).startsWith('≠'), '/rpc/ passes the proxy: the same on both sides');
  await axe(page, 'the report with its comparison');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}compare-report.png`, fullPage: true });
  assert.deepEqual(errors, [], `the page logged errors:\n${errors.join('\n')}`);
});

test('the password goes to the outside relay only with the second box, never in the URL; a comparison that did not happen is its message alone', { skip: needs('MIGCHECK_URL'), timeout: 60_000 }, async (t) => {
  const outside = 'http://127.0.0.1:9';
  // The relay's own sentence for an outside relay it cannot reach (relay/src/compare.rs).
  const message = `The outside relay at ${outside} could not be reached: cannot connect to 127.0.0.1 port 9: Connection refused (os error 111). This report is the inside view alone.`;
  const report = {
    schema_version: 1, verdict: 'pass', headline: 'Nothing stands in the way of the migration.', elapsed_ms: 12,
    inputs: { mode: 'autodiscover', email: 'adele@contoso.com', user: '', allow_credential_redirect: false },
    checks: [{ id: 'autodiscover', title: 'Autodiscover', status: 'pass', summary: 'Found.', elapsed_ms: 12, kb_step: 3 }],
    findings: [],
    comparison: {
      relay: outside, sent: { mode: 'outside', host: 'autodiscover.contoso.com' },
      password_sent: false, outcome: 'unreachable', message, differences: [], rows: [],
    },
  };
  const { context, page, errors } = await launch(t);
  // The relay says it compares with `outside` (which is never reached: the diagnosis is answered here).
  await context.route((u) => u.pathname === '/api/v1/info', async (route) => {
    const upstream = await route.fetch();
    route.fulfill({ response: upstream, json: { ...(await upstream.json()), compare_with: outside } });
  });
  const asked = [];
  await context.route((u) => u.pathname === '/api/v1/diagnose', (route) => {
    const url = route.request().url();
    asked.push({ url, body: JSON.parse(route.request().postData()) });
    // As the relay answers: a comparison only when one was asked for.
    const answer = url.includes('compare=outside') ? report : { ...report, comparison: undefined };
    const events = [{ event: 'started', id: 'autodiscover', title: 'Autodiscover', parent: null }, { event: 'done', report: answer }];
    return route.fulfill({ status: 200, contentType: 'application/x-ndjson', body: events.map((e) => JSON.stringify(e)).join('\n') + '\n' });
  });
  await open(page, URL);
  await chooseMode(page, 'autodiscover');
  await page.fill('#email', 'adele@contoso.com');
  await page.click('#next');
  await page.fill('#password', SECRET);
  assert.equal(await page.isChecked('#compare'), false, 'the compare box is ticked by default');
  assert.equal(await page.locator('#send-password').count(), 0, 'the password box before the comparison is asked for');
  await page.check('#compare');
  assert.equal(await page.isChecked('#send-password'), false, 'the password box is ticked by default');
  assert.match(await page.textContent('#send-password-help'), /every check from outside.*the report says where the password went/);
  await runAndWait(page, errors, 'a comparison without the password');
  await page.check('#send-password');
  await runAndWait(page, errors, 'a comparison with the password');
  // Another mode asks for the consent again.
  await chooseMode(page, 'host');
  await chooseMode(page, 'autodiscover');
  await page.click('#next');
  assert.equal(await page.isChecked('#compare'), true, 'the comparison itself stays asked for');
  assert.equal(await page.isChecked('#send-password'), false, 'the consent outlived a change of mode');
  await page.uncheck('#compare');
  await runAndWait(page, errors, 'no comparison');
  assert.equal(await page.locator('#comparison').count(), 0, 'a comparison shown when none was asked for');
  // Back to the comparison that did not happen.
  await page.check('#compare');
  await runAndWait(page, errors, 'a comparison again');

  assert.deepEqual(asked.map((a) => new globalThis.URL(a.url).search), ['?compare=outside', '?compare=outside&send_password=true', '', '?compare=outside']);
  for (const a of asked) {
    assert.ok(!a.url.includes(SECRET) && !a.url.includes(encodeURIComponent(SECRET)), `the password is in the URL: ${a.url}`);
    assert.equal(a.body.password, SECRET, 'the password is no longer in the body');
  }
  // The comparison did not happen: its message alone, the rest is the inside view.
  assert.equal(await page.textContent('#comparison h2'), 'Inside and outside');
  assert.ok((await page.textContent('#comparison')).includes(message));
  assert.equal(await page.textContent('#comparison-sent'), message);
  for (const part of ['#comparison-outside', '#differences', '#side-by-side']) {
    assert.equal(await page.locator(part).count(), 0, `${part} shown for a comparison that did not happen`);
  }
  const seen = await page.evaluate(() => document.documentElement.outerHTML + location.href + JSON.stringify({ ...localStorage }));
  assert.ok(!seen.includes(SECRET), 'the password is in the markup, the URL or storage');
  assert.deepEqual(errors, [], `the page logged errors:\n${errors.join('\n')}`);
});
