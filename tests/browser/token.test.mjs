// Browser tests of a relay started with an access token (`migcheck serve --token-env`): the page asks for
// the token, says when the relay refuses it, and diagnoses with it. Needs MIGCHECK_TOKEN_URL (that relay),
// MIGCHECK_TOKEN, MIGCHECK_EXPIRED_HOST and MIGCHECK_LAB_PORT, set by relay/tests/browser.rs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './browser.mjs';

const URL = process.env.MIGCHECK_TOKEN_URL;
const TOKEN = process.env.MIGCHECK_TOKEN;
const EXPIRED = process.env.MIGCHECK_EXPIRED_HOST;
const LAB_PORT = process.env.MIGCHECK_LAB_PORT;
const SKIP = URL && TOKEN && EXPIRED && LAB_PORT ? false : 'MIGCHECK_TOKEN_URL and friends not set: the relay is started by the Rust integration test';

/** The page's errors, less the browser's own line for each 401 the relay answers (expected here). */
const unexpected = (errors) => errors.filter((e) => !e.includes('status of 401'));

async function openPage(t) {
  const { page, errors } = await launch(t);
  await page.goto(URL, { waitUntil: 'load' });
  await page.waitForSelector('#access-token', { state: 'visible' });
  return { page, errors };
}

async function chooseHost(page) {
  await page.check('#mode-host');
  await page.click('#next');
  await page.fill('#host', EXPIRED);
  await page.fill('#port', LAB_PORT);
}

test('a relay with an access token asks for it, refuses a wrong one and diagnoses with the right one', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  assert.equal(await page.locator('#relay-egress').count(), 0, 'the relay told its egress without the token');

  await page.fill('#token', 'not-the-token');
  await page.click('#token-use');
  await page.waitForSelector('#error-token');
  assert.equal(await page.textContent('#error-token'), 'The relay did not accept this access token.');

  await page.fill('#token', TOKEN);
  assert.equal(await page.locator('#error-token').count(), 0, 'the refusal stays after the token changed');
  await page.click('#token-use');
  await page.waitForSelector('#token-accepted');
  await page.waitForSelector('#relay-egress');

  await chooseHost(page);
  await page.click('#run');
  await page.waitForSelector('#verdict[data-verdict="fail"]', { timeout: 30_000 });
  assert.ok((await page.locator('.finding[data-cause="certificate"]').count()) >= 1, 'no certificate finding');

  const text = await page.evaluate(() => document.documentElement.outerHTML + location.href);
  assert.ok(!text.includes(TOKEN), 'the token is in the page or its URL');
  assert.deepEqual(unexpected(errors), []);
});

test('a diagnosis without the token names the token field', { skip: SKIP, timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await chooseHost(page);
  await page.click('#run');
  await page.waitForSelector('#error-token');
  assert.equal(await page.textContent('#error-token'), 'this relay needs its access token');
  assert.equal(await page.locator('#error').count(), 0, 'the refusal is also shown at the top of the page');
  assert.equal(await page.locator('#verdict').count(), 0, 'a verdict without the token');
  assert.deepEqual(unexpected(errors), []);
});
