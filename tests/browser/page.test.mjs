// Browser tests of the migcheck page, run with `node --test tests/browser/`.
//
// A Rust integration test starts the relay and the lab and sets:
//   MIGCHECK_URL           where the relay serves the page (http://127.0.0.1:PORT/)
//   MIGCHECK_LAB_PORT      the lab's TLS port
//   MIGCHECK_EXPIRED_HOST  a host whose certificate expired 30 days ago
//   MIGCHECK_SILENT_HOST   a host that accepts TCP and never answers (the relay runs with a 3 s timeout)
// Optional: MIGCHECK_CHROMIUM (default /usr/bin/chromium). Only loopback is ever reached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const URL = env.MIGCHECK_URL;
const LAB_PORT = env.MIGCHECK_LAB_PORT;
const EXPIRED = env.MIGCHECK_EXPIRED_HOST ?? 'expired.contoso.test';
const SILENT = env.MIGCHECK_SILENT_HOST ?? 'silent.contoso.test';
const CHROMIUM = env.MIGCHECK_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
/** How long a whole diagnosis may take in the page. */
const RUN_TIMEOUT = 30_000;

const needs = (...names) => {
  const missing = names.filter((n) => !env[n]);
  return missing.length ? `${missing.join(', ')} not set: these tests are run by the Rust integration test that starts the relay and the lab` : false;
};

/** Opens the page in a fresh headless chromium; `errors` collects page errors and console errors. */
async function openPage(t) {
  const profile = mkdtempSync(join(tmpdir(), 'migcheck-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1000, height: 800 },
  });
  t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const errors = [];
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.setDefaultTimeout(10_000);
  await page.goto(URL, { waitUntil: 'load' });
  try {
    await page.waitForSelector('#host', { timeout: 10_000 });
  } catch {
    assert.fail(`the page at ${URL} did not render its form within 10 s${describe(errors)}`);
  }
  return { page, errors };
}

const describe = (errors) => (errors.length ? `\n${errors.join('\n')}` : '');

/** What the page shows, for a failure message. */
async function pageState(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent?.trim() ?? '(none)';
    const nodes = [...document.querySelectorAll('[data-check-id]')].map((n) => `${n.dataset.checkId}=${n.dataset.status}`);
    return `verdict: ${text('#verdict')}\nerror: ${text('#error')}\nerror-host: ${text('#error-host')}\n` +
      `progress: ${text('#progress-text')}\nchecks: ${nodes.join(' ') || '(none)'}`;
  });
}

async function waitOrExplain(page, errors, selector, what, timeout) {
  try {
    await page.waitForSelector(selector, { state: 'visible', timeout });
  } catch {
    assert.fail(`${what}: ${selector} did not appear within ${timeout / 1000} s\n${await pageState(page)}${describe(errors)}`);
  }
}

function assertNoErrors(errors) {
  assert.deepEqual(errors, [], `the page logged errors:${describe(errors)}`);
}

test('an expired certificate gives a failing verdict with a certificate finding', { skip: needs('MIGCHECK_URL', 'MIGCHECK_LAB_PORT'), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await page.fill('#host', EXPIRED);
  await page.fill('#port', LAB_PORT);
  assert.equal(await page.isEnabled('#run'), true, `Run is disabled for ${EXPIRED}:${LAB_PORT}\n${await pageState(page)}`);
  await page.click('#run');
  await waitOrExplain(page, errors, '#verdict[data-verdict="fail"]', `a diagnosis of ${EXPIRED}`, RUN_TIMEOUT);

  const finding = page.locator('.finding[data-cause="certificate"]');
  assert.ok((await finding.count()) >= 1, `no certificate finding\n${await pageState(page)}`);
  const texts = await finding.allTextContents();
  assert.ok(texts.some((s) => /expired/i.test(s)), `the certificate finding does not mention "expired": ${texts.join(' | ')}`);
  const dates = page.locator('[data-check-id="tls.dates"][data-status="fail"]');
  assert.equal(await dates.isVisible(), true, `tls.dates is not shown as failed\n${await pageState(page)}`);
  assertNoErrors(errors);
});

test('the check tree shows running checks before the verdict', { skip: needs('MIGCHECK_URL', 'MIGCHECK_LAB_PORT'), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await page.fill('#host', SILENT);
  await page.fill('#port', LAB_PORT);
  await page.press('#port', 'Enter'); // Enter submits the form
  try {
    // One evaluation sees both at once: a visible running node and no verdict yet.
    await page.waitForFunction(() => {
      const running = [...document.querySelectorAll('[data-check-id][data-status="running"]')];
      return !document.getElementById('verdict') && running.some((n) => n.checkVisibility());
    }, null, { timeout: 10_000 });
  } catch {
    assert.fail(`no running check was visible before the verdict of ${SILENT}\n${await pageState(page)}${describe(errors)}`);
  }
  assert.equal(await page.isDisabled('#run'), true, 'Run is not disabled while a diagnosis runs');
  await waitOrExplain(page, errors, '#verdict', `a diagnosis of ${SILENT}`, RUN_TIMEOUT);
  assert.equal(await page.locator('[data-status="running"]').count(), 0, `checks still shown running after the verdict\n${await pageState(page)}`);
  assertNoErrors(errors);
});

test('a host name with a space is refused as typed', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await page.fill('#host', 'mail contoso.com');
  await waitOrExplain(page, errors, '#error-host', 'the message for "mail contoso.com"', 5_000);
  const message = await page.textContent('#error-host');
  assert.match(message, /spaces/, `the host error does not mention spaces: ${message}`);
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled for an invalid host name');
  assertNoErrors(errors);
});
