// Browser tests of the wizard, the commands, the reopen link, the demos, Cancel and the relay's refusals,
// run with `node --test tests/browser/`. They need only MIGCHECK_URL (a relay serving the page): no lab, no
// diagnosis reaches the relay: each diagnose request is intercepted with page.route and answered here.
// Optional: MIGCHECK_CHROMIUM (default /usr/bin/chromium). Only loopback is ever reached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launch } from './browser.mjs';

const URL = process.env.MIGCHECK_URL;
const SKIP = URL ? false : 'MIGCHECK_URL not set: the relay serving the page is started by the Rust integration test';
const DIAGNOSE = '**/api/v1/diagnose';
const SECRET = 'Wiz4rd-s3cret!';

/** A small report: one passing check, a pass verdict. */
const REPORT = {
  schema_version: 1, verdict: 'pass', headline: 'Nothing stands in the way of the migration.', elapsed_ms: 12,
  inputs: { mode: 'host', host: 'mail.contoso.com' },
  checks: [{ id: 'tls', title: 'TLS', status: 'pass', summary: 'TLS 1.2', elapsed_ms: 12, kb_step: 2 }],
  findings: [],
};
const ndjson = (...events) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
const STREAM = ndjson({ event: 'started', id: 'tls', title: 'TLS', parent: null }, { event: 'done', report: REPORT });

/** Opens the page in a fresh headless chromium; `before(context)` may set up routes first. */
async function openPage(t, before, url = URL) {
  const { context, page, errors } = await launch(t);
  if (before) await before(context);
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#wizard');
  return { context, page, errors };
}

/** Answers every diagnose request with `body`; returns the request bodies seen. */
async function answerDiagnoses(context, body = STREAM) {
  const bodies = [];
  await context.route(DIAGNOSE, (route) => {
    bodies.push(JSON.parse(route.request().postData()));
    return route.fulfill({ status: 200, contentType: 'application/x-ndjson', body });
  });
  return bodies;
}

/** Steps 1 and 2 of the wizard, with the mouse. */
async function choose(page, kind, find) {
  await page.check(`#mode-${kind}`);
  await page.click('#next');
  if (find) await page.check(`#mode-${find}`);
}

/** Fills `fields` ({selector: value}) in order. */
async function fillAll(page, fields) {
  for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
}

/** Clicks Run, waits for the verdict and checks the command lines. */
async function runAndCheckLines(page, ps, cli) {
  assert.equal(await page.isEnabled('#run'), true, 'Run is disabled for a valid wizard');
  assert.equal(await page.textContent('#cli-line'), cli, 'the migcheck line before the run');
  await page.click('#run');
  await page.waitForSelector('#verdict');
  assert.equal(await page.textContent('#cli-line'), cli);
  if (ps) assert.equal(await page.textContent('#ps-line'), ps);
  else assert.equal(await page.locator('#ps-line').count(), 0, 'a cmdlet line for a certificate check');
  const lines = await page.textContent('#commands');
  assert.ok(!lines.includes(SECRET), 'the password is in the command lines');
  // migcheck.exe users are in PowerShell, where VAR='...' before a command does not set it.
  assert.match(await page.textContent('#cli-line-label'), /in PowerShell run \$env:MIGCHECK_PASSWORD = '\.\.\.' first/);
}

test('a cutover or staged migration through Autodiscover: the wizard, the request and the command lines', { skip: SKIP, timeout: 30_000 }, async (t) => {
  let bodies;
  const { page, errors } = await openPage(t, async (c) => { bodies = await answerDiagnoses(c); });
  assert.equal(await page.isVisible('#email'), false, 'step 1 shows the fields of step 2');
  await choose(page, 'staged', 'autodiscover');
  assert.match(await page.textContent('#step-find legend'), /Step 2 of 3/);
  await page.fill('#email', 'adele@contoso.com');
  await page.click('#next');
  assert.match(await page.textContent('#step-details legend'), /Step 3 of 3/);
  await fillAll(page, { '#user': 'CONTOSO\\migadmin', '#password': SECRET });
  await page.check('#allow-redirect');
  await page.uncheck('#allow-redirect');
  await runAndCheckLines(
    page,
    "Test-MigrationServerAvailability -Autodiscover -EmailAddress adele@contoso.com -Credentials (Get-Credential 'CONTOSO\\migadmin')",
    "MIGCHECK_PASSWORD='...' migcheck check --email adele@contoso.com --user 'CONTOSO\\migadmin' --password-env MIGCHECK_PASSWORD",
  );
  assert.deepEqual(bodies, [{ mode: 'autodiscover', email: 'adele@contoso.com', user: 'CONTOSO\\migadmin', password: SECRET, allow_credential_redirect: false }]);
  assert.deepEqual(errors, []);
});

test('a cutover or staged migration with the server names typed in: the request and the command lines', { skip: SKIP, timeout: 30_000 }, async (t) => {
  let bodies;
  const { page, errors } = await openPage(t, async (c) => { bodies = await answerDiagnoses(c); });
  await choose(page, 'staged', 'outlook-anywhere');
  await fillAll(page, { '#rpc-proxy': 'mail.contoso.com', '#exchange-server': 'ex01.contoso.com' });
  await page.selectOption('#auth', 'ntlm');
  await page.click('#next');
  await fillAll(page, { '#user': 'm@contoso.com', '#password': SECRET, '#target-mailbox': 'adele@contoso.com' });
  assert.equal(await page.isVisible('#allow-redirect'), false, 'the redirect box is an Autodiscover one');
  await runAndCheckLines(
    page,
    'Test-MigrationServerAvailability -ExchangeOutlookAnywhere -ExchangeServer ex01.contoso.com -RPCProxyServer mail.contoso.com -Authentication NTLM -Credentials (Get-Credential m@contoso.com) -EmailAddress adele@contoso.com -MailboxPermission FullAccess',
    "MIGCHECK_PASSWORD='...' migcheck check --rpc-proxy mail.contoso.com --exchange-server ex01.contoso.com --auth ntlm --user m@contoso.com --target-mailbox adele@contoso.com --password-env MIGCHECK_PASSWORD",
  );
  assert.deepEqual(bodies, [{
    mode: 'outlook_anywhere', rpc_proxy: 'mail.contoso.com', exchange_server: 'ex01.contoso.com', auth: 'ntlm',
    user: 'm@contoso.com', password: SECRET, target_mailbox: 'adele@contoso.com',
  }]);
  assert.deepEqual(errors, []);
});

test('a remote move skips step 2: the request and the command lines', { skip: SKIP, timeout: 30_000 }, async (t) => {
  let bodies;
  const { page, errors } = await openPage(t, async (c) => { bodies = await answerDiagnoses(c); });
  await choose(page, 'remote-move');
  assert.match(await page.textContent('#step-details legend'), /Step 2 of 2/);
  await fillAll(page, { '#remote-server': 'mail.contoso.com', '#user': 'm@contoso.com', '#password': SECRET });
  await runAndCheckLines(
    page,
    'Test-MigrationServerAvailability -ExchangeRemoteMove -RemoteServer mail.contoso.com -Credentials (Get-Credential m@contoso.com)',
    "MIGCHECK_PASSWORD='...' migcheck check --remote-server mail.contoso.com --user m@contoso.com --password-env MIGCHECK_PASSWORD",
  );
  assert.deepEqual(bodies, [{ mode: 'remote_move', remote_server: 'mail.contoso.com', user: 'm@contoso.com', password: SECRET }]);
  assert.deepEqual(errors, []);
});

test('just check a certificate: no password, no cmdlet line', { skip: SKIP, timeout: 30_000 }, async (t) => {
  let bodies;
  const { page, errors } = await openPage(t, async (c) => { bodies = await answerDiagnoses(c); });
  await choose(page, 'host');
  assert.equal(await page.isVisible('#password'), false);
  await fillAll(page, { '#host': 'mail.contoso.com', '#port': '444' });
  await runAndCheckLines(page, null, 'migcheck check --host mail.contoso.com --port 444');
  assert.deepEqual(bodies, [{ mode: 'host', host: 'mail.contoso.com', port: 444 }]);
  assert.deepEqual(errors, []);
});

test('the Autodiscover path with the keyboard only', { skip: SKIP, timeout: 30_000 }, async (t) => {
  let bodies;
  const { page, errors } = await openPage(t, async (c) => { bodies = await answerDiagnoses(c); });
  const kb = page.keyboard;
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return `${e.id}${e.matches(':focus-visible') ? '' : ' (focus not visible)'}`;
  });
  await kb.press('Tab');
  assert.equal(await focused(), 'mode-staged');
  await kb.press('Space');
  await kb.press('Tab');
  assert.equal(await focused(), 'next');
  await kb.press('Enter');
  await page.waitForSelector('#step-find:not([hidden])');
  assert.equal(await focused(), 'mode-autodiscover', 'step 2 did not take the focus');
  await kb.press('Tab');
  assert.equal(await focused(), 'email');
  await kb.type('adele@contoso.com');
  await kb.press('Enter');
  await page.waitForSelector('#step-details:not([hidden])');
  assert.equal(await focused(), 'user', 'step 3 did not take the focus');
  await kb.type('migadmin@contoso.com');
  await kb.press('Tab');
  assert.equal(await focused(), 'password');
  await kb.type(SECRET);
  await kb.press('Tab');
  await kb.press('Tab');
  assert.equal(await focused(), 'allow-redirect');
  await kb.press('Space');
  assert.equal(await page.isChecked('#allow-redirect'), true, 'Space did not tick the box');
  await kb.press('Space');
  await kb.press('Tab');
  assert.equal(await focused(), 'back');
  await kb.press('Tab');
  assert.equal(await focused(), 'run');
  await kb.press('Enter');
  await page.waitForSelector('#verdict');
  assert.deepEqual(bodies, [{ mode: 'autodiscover', email: 'adele@contoso.com', user: 'migadmin@contoso.com', password: SECRET, allow_credential_redirect: false }]);
  assert.deepEqual(errors, []);
});

test('Cancel aborts the diagnose request and keeps the checks that finished', { skip: SKIP, timeout: 30_000 }, async (t) => {
  // A relay stand-in that sends two events and never ends, and says when its client went away.
  let closed;
  const gone = new Promise((resolve) => { closed = resolve; });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(ndjson(
      { event: 'started', id: 'tls', title: 'TLS', parent: null },
      { event: 'started', id: 'dns', title: 'DNS', parent: null },
      { event: 'finished', check: { id: 'dns', title: 'DNS', status: 'pass', summary: 'resolved', elapsed_ms: 3, kb_step: null } },
    ));
    res.on('close', closed);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const held = `http://127.0.0.1:${server.address().port}/api/v1/diagnose`;
  const { page, errors } = await openPage(t, (c) => c.route(DIAGNOSE, (route) => route.continue({ url: held })));
  const failed = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  await choose(page, 'host');
  await page.fill('#host', 'mail.contoso.com');
  await page.click('#run');
  await page.waitForSelector('[data-check-id="dns"][data-status="pass"]');
  assert.equal(await page.isVisible('#cancel'), true);
  await page.click('#cancel');
  await page.waitForSelector('#cancelled');
  await gone;
  await page.waitForTimeout(200);
  assert.ok(failed.some((u) => u.includes('/api/v1/diagnose')), `the diagnose request was not aborted: ${failed}`);
  assert.equal(await page.locator('#verdict').count(), 0, 'a verdict for a cancelled run');
  assert.equal(await page.locator('#cancel').count(), 0, 'Cancel still offered');
  assert.equal(await page.getAttribute('[data-check-id="dns"]', 'data-status'), 'pass', 'the finished check went');
  assert.equal(await page.locator('[data-status="running"]').count(), 0, 'a check still shown running');
  assert.equal(await page.locator('#error, #error-run').count(), 0, 'the abort was shown as an error');
  assert.equal(await page.isEnabled('#run'), true, 'Run is not offered again');
  assert.deepEqual(errors, []);
});

test('the reopen link carries the inputs, never the password', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const { context, page, errors } = await openPage(t);
  await choose(page, 'staged', 'outlook-anywhere');
  await fillAll(page, { '#rpc-proxy': 'mail.contoso.com', '#exchange-server': 'ex01.contoso.com' });
  await page.click('#next');
  await fillAll(page, { '#user': 'CONTOSO\\mig admin', '#password': SECRET, '#target-mailbox': 'adele@contoso.com' });
  const href = await page.getAttribute('#reopen-link', 'href');
  assert.ok(!href.includes(SECRET) && !href.includes(encodeURIComponent(SECRET)) && !/password/.test(href), `the password is in ${href}`);
  const params = new URLSearchParams(new globalThis.URL(href).hash.slice(1));
  assert.deepEqual(Object.fromEntries(params), {
    mode: 'outlook_anywhere', rpc_proxy: 'mail.contoso.com', exchange_server: 'ex01.contoso.com', auth: 'basic',
    user: 'CONTOSO\\mig admin', target_mailbox: 'adele@contoso.com',
  });

  const again = await context.newPage();
  await again.goto(href, { waitUntil: 'load' });
  await again.waitForSelector('#step-details:not([hidden])');
  for (const [selector, value] of [['#rpc-proxy', 'mail.contoso.com'], ['#exchange-server', 'ex01.contoso.com'], ['#auth', 'basic'],
    ['#user', 'CONTOSO\\mig admin'], ['#target-mailbox', 'adele@contoso.com'], ['#password', '']]) {
    assert.equal(await again.inputValue(selector), value, selector);
  }
  assert.equal(await again.isChecked('#mode-outlook-anywhere'), true);
  assert.equal(await again.isDisabled('#run'), true, 'Run without a password');
  await again.fill('#password', SECRET);
  assert.equal(await again.isEnabled('#run'), true);
  // A hand-made link: a password in it is ignored.
  await again.goto(`${URL}#mode=host&host=mail.contoso.com&password=${SECRET}&junk=1`, { waitUntil: 'load' });
  await again.reload({ waitUntil: 'load' });
  await again.waitForSelector('#step-details:not([hidden])');
  assert.equal(await again.inputValue('#host'), 'mail.contoso.com');
  assert.equal(await again.inputValue('#password'), '');
  assert.deepEqual(errors, []);
});

test('a busy relay (429) is said next to Run with its Retry-After', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t, (c) => c.route(DIAGNOSE, (route) => route.fulfill({
    status: 429, headers: { 'retry-after': '7' }, contentType: 'application/json', body: '{"error":"too many"}',
  })));
  await choose(page, 'host');
  await page.fill('#host', 'mail.contoso.com');
  await page.click('#run');
  await page.waitForSelector('#error-run');
  assert.match(await page.textContent('#error-run'), /relay is busy.*try again in 7 s/i);
  assert.equal(await page.getAttribute('#run', 'aria-describedby'), 'error-run');
  assert.equal(await page.locator('#error').count(), 0, 'also said at the top');
  assert.deepEqual(errors.filter((e) => !e.includes('429')), []);
});

test('an unreachable relay is said next to Run', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const { page } = await openPage(t, (c) => c.route(DIAGNOSE, (route) => route.abort('connectionrefused')));
  await choose(page, 'host');
  await page.fill('#host', 'mail.contoso.com');
  await page.click('#run');
  await page.waitForSelector('#error-run');
  const origin = new globalThis.URL(URL).origin;
  assert.match(await page.textContent('#error-run'), new RegExp(`cannot reach the migcheck relay at ${origin}`, 'i'));
  assert.equal(await page.isEnabled('#run'), true, 'Run is not offered again');
});

test('the demo presets fill the wizard, the lab password included', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const demos = [
    { title: 'Expired certificate', description: 'The certificate ran out.', request: { mode: 'host', host: 'expired.demo.test', port: 8443 } },
    { title: 'Remote move, MRS Proxy off', description: 'MRSProxyEnabled is $false.', request: { mode: 'remote_move', remote_server: 'ex01.demo.test', user: 'demo\\mig', password: 'lab-pass', target_mailbox: 'adele@demo.test' } },
  ];
  let bodies;
  const { page, errors } = await openPage(t, async (c) => {
    await c.route('**/api/v1/info', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ version: '0.1.0', egress: 'demo', demos }) }));
    bodies = await answerDiagnoses(c);
  });
  await page.waitForSelector('#demos');
  assert.deepEqual(await page.$$eval('#demos button', (b) => b.map((x) => [x.id, x.textContent])), [['demo-0', demos[0].title], ['demo-1', demos[1].title]]);
  await page.click('#demo-1');
  await page.waitForSelector('#step-details:not([hidden])');
  assert.equal(await page.inputValue('#remote-server'), 'ex01.demo.test');
  assert.equal(await page.inputValue('#user'), 'demo\\mig');
  assert.equal(await page.inputValue('#target-mailbox'), 'adele@demo.test');
  assert.equal(await page.inputValue('#password'), 'lab-pass');
  assert.ok(!(await page.content()).includes('lab-pass'), 'the password is in the markup');
  // Everything is filled in: the focus waits on Run (it went to the optional mailbox field before).
  await page.waitForFunction(() => document.activeElement?.id === 'run', null, { timeout: 5_000 });
  await page.click('#run');
  await page.waitForSelector('#verdict');
  assert.deepEqual(bodies, [demos[1].request]);
  await page.click('#demo-0');
  assert.equal(await page.inputValue('#host'), 'expired.demo.test');
  assert.equal(await page.inputValue('#port'), '8443');
  assert.deepEqual(errors, []);
});
