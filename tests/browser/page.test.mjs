// Browser tests of the migcheck page, run with `node --test tests/browser/`.
//
// A Rust integration test starts the relay and the lab and sets:
//   MIGCHECK_URL           where the relay serves the page (http://127.0.0.1:PORT/)
//   MIGCHECK_LAB_PORT      the lab's TLS port
//   MIGCHECK_EXPIRED_HOST  a host whose certificate expired 30 days ago
//   MIGCHECK_SILENT_HOST   a host that accepts TCP and never answers (the relay runs with a 3 s timeout)
//   MIGCHECK_AD_EMAIL      a mailbox of the healthy Autodiscover scenario: autodiscover.<domain> answers
//                          settings with Basic, the root domain refuses
//   MIGCHECK_AD_USER       its migration account (may be empty: the e-mail address)
//   MIGCHECK_AD_PASSWORD   that account's password
//   MIGCHECK_AD_OA_HOST    the Outlook Anywhere host (EXPR Server) the settings give
//   MIGCHECK_OA_PROXY      a healthy lab RPC proxy (Outlook Anywhere host), served on 443
//   MIGCHECK_OA_SERVER     the RPC server name (-ExchangeServer) that proxy knows, e.g. ex01.oalab.test
//   MIGCHECK_OA_USER       the migration account the proxy accepts
//   MIGCHECK_OA_PASSWORD   its password
//   MIGCHECK_EX_HOST       a healthy lab Exchange server (EWS and MRS Proxy), served on 443
//   MIGCHECK_EX_MRS_OFF_HOST  a lab Exchange server whose MRS Proxy is off (MRSProxyEnabled $false)
//   MIGCHECK_EX_USER       the migration account both accept
//   MIGCHECK_EX_PASSWORD   its password
//   MIGCHECK_EX_DENIED_MAILBOX  a mailbox of MIGCHECK_EX_HOST that account may not open (no Full Access)
//   MIGCHECK_OA_DENIED_MAILBOX  the same mailbox behind MIGCHECK_OA_PROXY
//   MIGCHECK_AGENT_URL     a relay where a Hybrid Agent runs (Microsoft's hosts sent to the lab, the lab's CA internal)
//   MIGCHECK_AGENT_NAME    a Hybrid Agent name (GUID.resource.mailboxmigration.his.msappproxy.net)
//   MIGCHECK_AD_OA_CASES   Autodiscover runs for Outlook Anywhere hosts that answer Autodiscover themselves, as JSON,
//                          [{name, email, user, password, check, status, verdict, cause}]
//   MIGCHECK_CERT_CASES    certificate scenarios as JSON, [{name, url, host, port, check, status, verdict, cause,
//                          words}]: each run in the host mode of the relay at `url` (relays that trust the lab's
//                          CA as public, or as an internal CA seen from the internet or from inside a network)
// Optional: MIGCHECK_CHROMIUM (default /usr/bin/chromium). Only loopback is ever reached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chooseMode, launch } from './browser.mjs';

const env = process.env;
const URL = env.MIGCHECK_URL;
const LAB_PORT = env.MIGCHECK_LAB_PORT;
const EXPIRED = env.MIGCHECK_EXPIRED_HOST ?? 'expired.contoso.test';
const SILENT = env.MIGCHECK_SILENT_HOST ?? 'silent.contoso.test';
const AD = {
  email: env.MIGCHECK_AD_EMAIL,
  user: env.MIGCHECK_AD_USER ?? '',
  password: env.MIGCHECK_AD_PASSWORD,
  oaHost: env.MIGCHECK_AD_OA_HOST,
};
const AD_VARS = ['MIGCHECK_URL', 'MIGCHECK_AD_EMAIL', 'MIGCHECK_AD_PASSWORD', 'MIGCHECK_AD_OA_HOST'];
const OA = {
  proxy: env.MIGCHECK_OA_PROXY,
  server: env.MIGCHECK_OA_SERVER,
  user: env.MIGCHECK_OA_USER,
  password: env.MIGCHECK_OA_PASSWORD,
  deniedMailbox: env.MIGCHECK_OA_DENIED_MAILBOX,
};
/**
 * MIGCHECK_OA_CASES: every Outlook Anywhere scenario of the lab as JSON, [{name, proxy, server, auth, user,
 * password, mailbox, check, status, cause, verdict, words}]: after the run, `check` has `status`, the verdict
 * is `verdict`, and when `cause` is set a finding has it (mentioning `words` when set); `mailbox` (optional)
 * goes in the "Mailbox to check" field.
 */
const OA_CASES = env.MIGCHECK_OA_CASES ? JSON.parse(env.MIGCHECK_OA_CASES) : [];
/** MIGCHECK_AD_OA_CASES: Autodiscover runs, the same shape with `email` for the mode's field. */
const AD_OA_CASES = env.MIGCHECK_AD_OA_CASES ? JSON.parse(env.MIGCHECK_AD_OA_CASES) : [];
/** MIGCHECK_EX_CASES: the remote-move scenarios, the same shape with `server` and `mailbox` for the mode's fields. */
const EX_CASES = env.MIGCHECK_EX_CASES ? JSON.parse(env.MIGCHECK_EX_CASES) : [];
/**
 * MIGCHECK_AD_CASES: the Autodiscover scenarios of issue 18 as JSON, [{name, email, user, password, check,
 * status, verdict, headline, shows: [[check id, words]...]}]: after the run, `check` has `status`, the
 * verdict is `verdict`, the headline mentions `headline`, and each check of `shows` shows its words.
 */
const AD_CASES = env.MIGCHECK_AD_CASES ? JSON.parse(env.MIGCHECK_AD_CASES) : [];
const OA_VARS = ['MIGCHECK_URL', 'MIGCHECK_OA_PROXY', 'MIGCHECK_OA_SERVER', 'MIGCHECK_OA_USER', 'MIGCHECK_OA_PASSWORD'];
const EX = {
  host: env.MIGCHECK_EX_HOST,
  mrsOffHost: env.MIGCHECK_EX_MRS_OFF_HOST,
  user: env.MIGCHECK_EX_USER,
  password: env.MIGCHECK_EX_PASSWORD,
  deniedMailbox: env.MIGCHECK_EX_DENIED_MAILBOX,
};
const EX_VARS = ['MIGCHECK_URL', 'MIGCHECK_EX_USER', 'MIGCHECK_EX_PASSWORD'];
const CERT_CASES = env.MIGCHECK_CERT_CASES ? JSON.parse(env.MIGCHECK_CERT_CASES) : [];
/** How long a whole diagnosis may take in the page. */
const RUN_TIMEOUT = 30_000;

const needs = (...names) => {
  const missing = names.filter((n) => !env[n]);
  return missing.length ? `${missing.join(', ')} not set: these tests are run by the Rust integration test that starts the relay and the lab` : false;
};

/**
 * Opens the page in a fresh headless chromium; `errors` collects page errors and console errors, `logs`
 * every console message (to prove the password is never logged).
 */
async function openPage(t) {
  const { page, errors } = await launch(t);
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  await page.goto(URL, { waitUntil: 'load' });
  try {
    await page.waitForSelector('#wizard', { timeout: 10_000 });
  } catch {
    assert.fail(`the page at ${URL} did not render its form within 10 s${describe(errors)}`);
  }
  return { page, errors, logs };
}

/** The wizard's steps, in order (the second only for a cutover or staged migration). */
const STEPS = ['step-kind', 'step-find', 'step-details'];


/** Goes Next or Back to the wizard step that holds `selector` (Next must not be held back by a wrong field), then fills it. */
async function fill(page, selector, value) {
  const wanted = STEPS.indexOf(await page.$eval(selector, (el) => el.closest('fieldset.step').id));
  for (let i = 0; i < STEPS.length; i++) {
    const at = STEPS.indexOf(await page.$eval('fieldset.step:not([hidden])', (el) => el.id));
    if (at === wanted) break;
    await page.click(at < wanted ? '#next' : '#back');
  }
  await page.fill(selector, value);
}

/**
 * Fills the Autodiscover form with `c` ({email, user, password}; the healthy scenario by default) and runs it;
 * returns when the verdict is shown.
 */
async function runAutodiscover(page, errors, c = AD) {
  await chooseMode(page, 'autodiscover');
  await page.fill('#email', c.email);
  await fill(page, '#user', c.user);
  await page.fill('#password', c.password);
  assert.equal(await page.isChecked('#allow-redirect'), false, 'the credential redirect box is ticked by default');
  await runAndWait(page, errors, `an Autodiscover diagnosis of ${c.email}`);
}

/** Clicks Run (which must be enabled) and waits for the verdict of `what`. */
async function runAndWait(page, errors, what) {
  assert.equal(await page.isEnabled('#run'), true, `Run is disabled for ${what}\n${await pageState(page)}`);
  await page.click('#run');
  await waitOrExplain(page, errors, '#verdict', what, RUN_TIMEOUT);
}

/** Collects the URL of every diagnosis the page requests. */
function watchDiagnoses(page) {
  const diagnoses = [];
  page.on('request', (r) => {
    if (new globalThis.URL(r.url()).pathname.startsWith('/api/v1/diagnose')) diagnoses.push(r.url());
  });
  return diagnoses;
}

/**
 * Fills the Outlook Anywhere form with `c` ({proxy, server, auth, user, password, mailbox}) and runs it;
 * returns when the verdict is shown.
 */
async function runOutlookAnywhere(page, errors, c) {
  await chooseMode(page, 'outlook-anywhere');
  await page.fill('#rpc-proxy', c.proxy);
  await page.fill('#exchange-server', c.server);
  await page.selectOption('#auth', c.auth ?? 'basic');
  await fill(page, '#user', c.user);
  await page.fill('#password', c.password);
  await page.fill('#target-mailbox', c.mailbox ?? '');
  await runAndWait(page, errors, `an Outlook Anywhere diagnosis of ${c.server} behind ${c.proxy}`);
}

/**
 * Fills the remote-move form with `c` ({server, user, password, mailbox}) and runs it; returns when the
 * verdict is shown.
 */
async function runRemoteMove(page, errors, c) {
  await chooseMode(page, 'remote-move');
  await page.fill('#remote-server', c.server);
  await page.fill('#user', c.user);
  await page.fill('#password', c.password);
  await page.fill('#target-mailbox', c.mailbox ?? '');
  // Offered by a relay inside the network only: the servers behind a name, or the server an agent publishes.
  if (c.servers) await page.fill('#servers', c.servers);
  if (c.agentTarget) await page.fill('#agent-target', c.agentTarget);
  await runAndWait(page, errors, `a remote-move diagnosis of ${c.server}${c.mailbox ? ` for the mailbox ${c.mailbox}` : ''}`);
}

/** Asserts that `secret` is nowhere but in the password field: not in the text, the URL, the markup, storage or the console. */
async function assertSecretKept(page, logs, secret) {
  const seen = await page.evaluate(() => ({
    text: document.body.innerText,
    href: location.href,
    html: document.documentElement.outerHTML,
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    field: document.getElementById('password')?.value,
  }));
  assert.ok(!seen.text.includes(secret), 'the password is in the page text');
  assert.ok(!seen.href.includes(secret) && !seen.href.includes(encodeURIComponent(secret)), `the password is in the URL: ${seen.href}`);
  assert.ok(!seen.html.includes(secret), 'the password is in the markup (an attribute?)');
  assert.ok(!seen.storage.includes(secret), 'the password is in local or session storage');
  assert.ok(!logs.some((l) => l.includes(secret)), 'the password was written to the console');
  assert.equal(seen.field, secret, 'the password field lost its value after the run (a rerun needs it)');
}

const describe = (errors) => (errors.length ? `\n${errors.join('\n')}` : '');

/** What the page shows, for a failure message. */
async function pageState(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent?.trim() ?? '(none)';
    const nodes = [...document.querySelectorAll('[data-check-id]')].map((n) => `${n.dataset.checkId}=${n.dataset.status}`);
    const fields = ['host', 'port', 'email', 'rpc_proxy', 'exchange_server', 'remote_server', 'user', 'password', 'target_mailbox', 'run'].map((f) => `error-${f}: ${text(`#error-${f}`)}`).join('\n');
    const step = document.querySelector('fieldset.step:not([hidden]) legend')?.textContent ?? '(none)';
    return `wizard: ${step}\nverdict: ${text('#verdict')}\nerror: ${text('#error')}\n${fields}\n` +
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

test('the page module and the wasm are fetched once each (the preloads match), brotli-encoded', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await launch(t);
  const fetched = [];
  page.on('response', (r) => {
    const path = new globalThis.URL(r.url()).pathname;
    if (path.startsWith('/migcheck_frontend')) fetched.push({ path, encoding: r.headers()['content-encoding'] ?? 'identity' });
  });
  await page.goto(URL, { waitUntil: 'load' });
  await page.waitForSelector('#wizard', { timeout: 10_000 });
  const seen = JSON.stringify(fetched);
  for (const ext of ['.js', '.wasm']) {
    const these = fetched.filter((f) => f.path.endsWith(ext));
    assert.equal(these.length, 1, `the page's ${ext} was fetched ${these.length} times: ${seen}`);
    assert.equal(these[0].encoding, 'br', `the page's ${ext} came without brotli: ${seen}`);
  }
  assert.deepEqual(errors, []);
});

test('an expired certificate gives a failing verdict with a certificate finding', { skip: needs('MIGCHECK_URL', 'MIGCHECK_LAB_PORT'), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await chooseMode(page, 'host');
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

test('every certificate scenario (an expired cross-root after a valid chain, a private root from outside and from inside): the check, the verdict and the finding the page shows', { skip: needs('MIGCHECK_CERT_CASES'), timeout: 120_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  for (const c of CERT_CASES) {
    await page.goto(c.url, { waitUntil: 'load' });
    await page.waitForSelector('#wizard');
    await chooseMode(page, 'host');
    await page.fill('#host', c.host);
    await page.fill('#port', c.port);
    await runAndWait(page, errors, `${c.name}: a diagnosis of ${c.host}`);
    const state = async () => `${c.name}\n${await pageState(page)}`;
    const check = page.locator(`[data-check-id="${c.check}"][data-status="${c.status}"]`);
    assert.equal(await check.count(), 1, `${c.check} is not ${c.status}: ${await state()}`);
    assert.equal(await page.getAttribute('#verdict', 'data-verdict'), c.verdict, `the verdict: ${await state()}`);
    const findings = page.locator('.finding');
    if (c.cause) {
      await assertFinding(page, c.cause, c.words);
    } else {
      assert.equal(await findings.count(), 0, `a finding where none was expected: ${await state()}`);
      assert.ok((await page.textContent('#verdict')).includes(c.words), `the verdict does not say ${c.words}: ${await state()}`);
    }
  }
  assertNoErrors(errors);
});

test('the check tree shows running checks before the verdict', { skip: needs('MIGCHECK_URL', 'MIGCHECK_LAB_PORT'), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await chooseMode(page, 'host');
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

test('a pasted error is explained in the browser, never sent, and "Check it now" pre-fills the wizard', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  const sent = [];
  page.on('request', (r) => sent.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
  // Report A of relay/tests/explain (Microsoft Q&A 2184984), wrapped by Format-List, after a line with a password.
  const secret = 'Pa55-in-paste!';
  const report = readFileSync(new globalThis.URL('../../relay/tests/explain/a-test-migration-server-availability-403.txt', import.meta.url), 'utf8');
  await page.check('#mode-paste');
  assert.match(await page.textContent('#paste-note'), /never sent to the relay and never stored/);
  assert.equal(await page.locator('#next').count(), 0, 'the wizard offers Next beside the paste box');
  await page.waitForSelector('#explain:enabled');
  await page.fill('#paste-text', `PS> $cred = Get-Credential; -Password '${secret}'\n${report}`);
  await page.click('#explain');
  await waitOrExplain(page, errors, '#paste-headline', 'the explanation', 5_000);
  assert.equal(await page.textContent('#paste-headline'),
    "Recognised: MRS Proxy disabled: 403 Forbidden with scheme 'Negotiate' (external access), and 2 more known messages");
  const entries = await page.$$eval('.explained-entry', (els) => els.map((e) => e.dataset.entry));
  assert.deepEqual(entries, ['mrs-403-forbidden-negotiate', 'connection-to-server-not-completed', 'migration-server-connection-failed-exception']);
  const first = await page.textContent('.explained-entry');
  assert.match(first, /lines 14-16: /, 'the lines of the first match (the password line is line 1)');
  assert.match(first, /Set-WebServicesVirtualDirectory/);
  assert.match(await page.textContent('#paste-password'), /^Line 1 seems to hold a password: it was not read and is not shown\./);
  assert.match(await page.textContent('#paste-names'), /hosts: owa\.domain\.com/);
  assert.ok(!(await page.content()).includes(secret), 'the pasted password is in the page');
  await page.click('#check-now');
  await waitOrExplain(page, errors, '#remote-server', 'the remote-move details step', 5_000);
  assert.equal(await page.inputValue('#remote-server'), 'owa.domain.com');
  assert.equal(await page.inputValue('#user'), '');
  assert.equal(await page.inputValue('#password'), '', 'a password from the paste');
  await page.click('#back');
  assert.equal(await page.isChecked('#mode-remote-move'), true, 'the kind of migration the paste called for');
  const catalogue = sent.filter((s) => s.startsWith('GET ') && s.includes('/api/v1/catalogue'));
  assert.equal(catalogue.length, 1, `the catalogue is fetched once when the box opens: ${sent.join('\n')}`);
  for (const s of sent) {
    assert.ok(!s.includes('owa.domain.com') && !s.includes(secret) && !s.includes('mrsproxy'), `the pasted text went out: ${s}`);
  }
  // A stall is no connection problem: no check is offered, even though the text names the server.
  await page.check('#mode-paste');
  await page.waitForSelector('#explain:enabled');
  await page.fill('#paste-text', "The call to 'https://owa.domain.com/EWS/mrsproxy.svc'\nStalledDueToTarget_MDBFull or TargetDatabaseFullPermanentException");
  await page.click('#explain');
  await waitOrExplain(page, errors, '#no-check', 'the answer for a stall', 5_000);
  assert.match(await page.textContent('#paste-headline'), /^Recognised: StalledDueToTarget_MdbFull .*\(throttling\)$/);
  assert.match(await page.textContent('#no-check'), /^No connectivity check is needed/);
  assert.equal(await page.locator('#check-now').count(), 0, '"Check it now" offered for a stall');
  assertNoErrors(errors);
});

test('a host name with a space is refused as typed', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await chooseMode(page, 'host');
  await page.fill('#host', 'mail contoso.com');
  await waitOrExplain(page, errors, '#error-host', 'the message for "mail contoso.com"', 5_000);
  const message = await page.textContent('#error-host');
  assert.match(message, /spaces/, `the host error does not mention spaces: ${message}`);
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled for an invalid host name');
  assertNoErrors(errors);
});

test('Autodiscover finds the server: the candidates, the settings and the Outlook Anywhere host', { skip: needs(...AD_VARS), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await runAutodiscover(page, errors);

  const candidates = '[data-check-id="autodiscover"] ul.tree';
  const host = page.locator(`${candidates} [data-check-id="autodiscover.host"]`);
  assert.equal(await host.getAttribute('data-status'), 'pass', `autodiscover.host did not pass\n${await pageState(page)}`);
  const root = page.locator(`${candidates} [data-check-id="autodiscover.root"]`);
  assert.equal(await root.count(), 1, `no autodiscover.root candidate\n${await pageState(page)}`);
  assert.equal(await root.getAttribute('data-status'), 'info', `the refusing root domain is not shown as info\n${await pageState(page)}`);
  const settings = page.locator('[data-check-id="autodiscover.settings"]');
  assert.equal(await settings.count(), 1, `no autodiscover.settings check\n${await pageState(page)}`);
  const text = await settings.first().textContent();
  assert.ok(text.includes(AD.oaHost), `autodiscover.settings does not name ${AD.oaHost}: ${text}`);
  // Asked as the migration service (EXCH/EXPR), then once more for MAPI over HTTP, which is on here.
  assert.ok(text.includes('enabled: a mapiHttp block, and no top-level EXCH or EXPR'), `autodiscover.settings does not show MAPI over HTTP: ${text}`);
  // SOAP Autodiscover, which the hybrid side uses, beside POX: shown like any check (no page code of its own).
  const soap = page.locator('[data-check-id="autodiscover.soap"]');
  assert.equal(await soap.getAttribute('data-status'), 'pass', `autodiscover.soap did not pass\n${await pageState(page)}`);
  assert.ok((await soap.textContent()).includes('ExternalEwsUrl https://'), `autodiscover.soap names no ExternalEwsUrl: ${await soap.textContent()}`);
  assertNoErrors(errors);
});

test('the Autodiscover fields are checked as typed and the password is masked', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  // The wizard's first question is a radio group: the arrow keys move between its answers.
  assert.equal(await page.isChecked('#mode-staged'), true, 'a cutover or staged migration is not the first answer');
  await page.focus('#mode-staged');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#mode-remote-move'), true, 'the arrow key did not move to the remote move');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#mode-host'), true, 'the arrow key did not move to the certificate check');
  await page.click('#next');
  assert.equal(await page.isVisible('#host'), true, 'the host field is not shown in the host mode');
  assert.equal(await page.isVisible('#email'), false, 'the e-mail field is shown in the host mode');
  await page.click('#back');
  await page.focus('#mode-host');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.isChecked('#mode-staged'), true, 'the arrow keys did not move back to the staged migration');
  await page.click('#next');
  assert.equal(await page.isChecked('#mode-autodiscover'), true, 'Autodiscover is not the first way to find the server');
  await page.waitForSelector('#email', { state: 'visible', timeout: 5_000 });

  await page.fill('#email', 'alice.contoso.com');
  await waitOrExplain(page, errors, '#error-email', 'the message for an e-mail address without @', 5_000);
  assert.match(await page.textContent('#error-email'), /@/, 'the e-mail error does not mention the @');
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  await page.press('#email', 'Enter');
  await page.click('#next');
  assert.equal(await page.isVisible('#email'), true, 'Next left the step with an e-mail address without @');
  await page.waitForFunction(() => document.activeElement?.id === 'email', null, { timeout: 5_000 });
  assert.equal(await page.locator('#run').count(), 0, 'Run is offered with an e-mail address without @');
  await page.fill('#email', 'alice@contoso.com');
  await page.waitForSelector('#error-email', { state: 'detached', timeout: 5_000 });
  await fill(page, '#password', 'not-empty');
  assert.equal(await page.isEnabled('#run'), true, `Run stays disabled for a valid form\n${await pageState(page)}`);

  assert.equal(await page.getAttribute('#password', 'type'), 'password', 'the password is not masked');
  assert.equal(await page.getAttribute('#password', 'autocomplete'), 'current-password');
  await page.fill('#password', '');
  await waitOrExplain(page, errors, '#error-password', 'the message for an empty password', 5_000);
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled without a password');
  // Enter in another field, or Run itself, does not pass silently: the focus goes to what is missing.
  await page.focus('#user');
  await page.press('#user', 'Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'password', null, { timeout: 5_000 });
  await page.focus('#run');
  await page.press('#run', 'Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'password', null, { timeout: 5_000 });
  assert.equal(await page.isChecked('#allow-redirect'), false, 'the credential redirect box is ticked by default');

  // Leaving the page (pagehide, also on the way into the back-forward cache) forgets the password.
  await page.fill('#password', 'to-be-forgotten');
  assert.equal(await page.isEnabled('#run'), true, `Run stays disabled for a valid form\n${await pageState(page)}`);
  await page.evaluate(() => window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true })));
  await page.waitForFunction(() => document.getElementById('run').getAttribute('aria-disabled') === 'true', null, { timeout: 5_000 });
  assert.equal(await page.inputValue('#password'), '', 'the password field kept its value after pagehide');
  assertNoErrors(errors);
});

test('the password appears nowhere but in its field: not in the text, the URL, the markup, storage or the console', { skip: needs(...AD_VARS), timeout: 60_000 }, async (t) => {
  const { page, errors, logs } = await openPage(t);
  await runAutodiscover(page, errors);
  await assertSecretKept(page, logs, AD.password);
  assertNoErrors(errors);
});

test('Outlook Anywhere to a server name the proxy does not know: RPC error 6ba, wrong server name', { skip: needs(...OA_VARS), timeout: 60_000 }, async (t) => {
  const { page, errors, logs } = await openPage(t);
  // The domain part of the known server (ex01.oalab.test or <guid>@oalab.test), under a name nobody serves.
  const domain = OA.server.includes('@') ? OA.server.split('@').pop() : OA.server.slice(OA.server.indexOf('.') + 1);
  const unknown = `nosuch.${domain}`;
  await runOutlookAnywhere(page, errors, { ...OA, server: unknown });

  const failed = page.locator('[data-check-id^="oa."][data-status="fail"]');
  const failedIds = await failed.evaluateAll((nodes) => nodes.map((n) => n.dataset.checkId));
  assert.ok(
    failedIds.some((id) => id === 'oa.connection' || id.startsWith('oa.bind.')),
    `neither oa.connection nor a channel check (oa.bind.*) failed for ${unknown}: failed ${failedIds.join(' ') || '(none)'}\n${await pageState(page)}`,
  );
  assert.equal(await page.locator('#verdict[data-verdict="fail"]').count(), 1, `the verdict is not fail\n${await pageState(page)}`);
  const finding = page.locator('.finding[data-cause="wrong_server_name"]');
  assert.ok((await finding.count()) >= 1, `no wrong_server_name finding\n${await pageState(page)}`);
  const texts = await finding.allTextContents();
  assert.ok(texts.some((s) => /6ba/i.test(s)), `the wrong server name finding does not mention 6ba: ${texts.join(' | ')}`);
  await assertSecretKept(page, logs, OA.password);
  assertNoErrors(errors);
});

test('Outlook Anywhere to the server the proxy knows: the 6001 endpoint binds', { skip: needs(...OA_VARS), timeout: 60_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  await runOutlookAnywhere(page, errors, OA);
  const bind = page.locator('[data-check-id="oa.bind.6001"][data-status="pass"]');
  assert.equal(await bind.count(), 1, `oa.bind.6001 did not pass for ${OA.server}\n${await pageState(page)}`);
  const verdict = await page.getAttribute('#verdict', 'data-verdict');
  assert.notEqual(verdict, 'fail', `the healthy Outlook Anywhere run failed\n${await pageState(page)}`);
  assertNoErrors(errors);
});

test('the Outlook Anywhere fields are checked as typed and Run sends nothing while one is wrong', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  const diagnoses = watchDiagnoses(page);
  await chooseMode(page, 'outlook-anywhere');
  assert.equal(await page.isVisible('#email'), false, 'the e-mail field is shown in the Outlook Anywhere mode');
  assert.equal(await page.isVisible('#allow-redirect'), false, 'the Autodiscover redirect box is shown in the Outlook Anywhere mode');
  assert.deepEqual(
    await page.$$eval('#auth option', (options) => options.map((o) => [o.value, o.textContent])),
    [['basic', 'Basic'], ['ntlm', 'NTLM']],
  );
  assert.equal(await page.inputValue('#auth'), 'basic', 'Basic is not the default authentication');

  // An e-mail address is not the <mailbox-guid>@<domain> form of an Exchange server.
  await page.fill('#exchange-server', 'alice@contoso.com');
  await waitOrExplain(page, errors, '#error-exchange_server', 'the message for the Exchange server alice@contoso.com', 5_000);
  assert.match(await page.textContent('#error-exchange_server'), /GUID/, 'the Exchange server error does not mention the GUID');
  assert.equal(await page.getAttribute('#exchange-server', 'aria-invalid'), 'true');

  // The proxy typed and emptied again says what it needs; neither Next nor Enter goes on, nothing is sent.
  await page.fill('#rpc-proxy', 'mail.contoso.com');
  await page.fill('#rpc-proxy', '');
  await waitOrExplain(page, errors, '#error-rpc_proxy', 'the message for an empty RPC proxy', 5_000);
  assert.match(await page.textContent('#error-rpc_proxy'), /server name/, 'the RPC proxy error does not ask for a server name');
  assert.equal(await page.getAttribute('#rpc-proxy', 'aria-invalid'), 'true');
  await page.click('#next');
  await page.press('#rpc-proxy', 'Enter');
  await page.fill('#exchange-server', '0A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D@contoso.com');
  await page.waitForSelector('#error-exchange_server', { state: 'detached', timeout: 5_000 });
  await page.press('#exchange-server', 'Enter');
  await page.waitForTimeout(300);
  assert.equal(await page.isVisible('#rpc-proxy'), true, 'the wizard went on without an RPC proxy');
  assert.equal(await page.locator('#run').count(), 0, 'Run is offered without an RPC proxy');
  assert.deepEqual(diagnoses, [], 'a diagnosis was requested while a field is wrong');
  assert.equal(await page.locator('#verdict, [data-check-id]').count(), 0, 'a run started while a field is wrong');

  // Right fields: Enter goes on to the credentials, and the account is required in this mode.
  await page.fill('#rpc-proxy', 'mail.contoso.com');
  await page.waitForSelector('#error-rpc_proxy', { state: 'detached', timeout: 5_000 });
  await page.press('#rpc-proxy', 'Enter');
  await page.waitForSelector('#user', { state: 'visible', timeout: 5_000 });
  await page.fill('#password', 'not-empty');
  await page.fill('#user', 'migadmin@contoso.com');
  await page.fill('#user', '');
  await waitOrExplain(page, errors, '#error-user', 'the message for an empty migration account', 5_000);
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled without a migration account');
  await page.click('#run', { force: true });
  await page.press('#user', 'Enter');
  await page.fill('#user', 'CONTOSO\\migadmin');
  await page.waitForSelector('#error-user', { state: 'detached', timeout: 5_000 });
  assert.equal(await page.isEnabled('#run'), true, `Run stays disabled for a valid form\n${await pageState(page)}`);
  assert.deepEqual(diagnoses, [], 'a diagnosis was requested before Run');
  assertNoErrors(errors);
});

/**
 * Runs each case with `run` in a fresh page load and checks what the page shows: `check` has `status`, the
 * verdict is `verdict`, a finding has `cause` (when set) and mentions `words` (when set); the password stays.
 */
async function assertCases(t, cases, run) {
  const { page, errors, logs } = await openPage(t);
  for (const c of cases) {
    await page.goto(URL, { waitUntil: 'load' });
    await page.waitForSelector('#wizard');
    await run(page, errors, c);
    const state = async () => `${c.name}\n${await pageState(page)}`;
    const check = page.locator(`[data-check-id="${c.check}"][data-status="${c.status}"]`);
    assert.equal(await check.count(), 1, `${c.check} is not ${c.status}: ${await state()}`);
    assert.equal(await page.getAttribute('#verdict', 'data-verdict'), c.verdict, `the verdict: ${await state()}`);
    if (c.cause) {
      const finding = page.locator(`.finding[data-cause="${c.cause}"]`);
      assert.ok((await finding.count()) >= 1, `no ${c.cause} finding: ${await state()}`);
      if (c.words) {
        const texts = await finding.allTextContents();
        assert.ok(texts.some((x) => x.includes(c.words)), `no ${c.cause} finding mentions ${c.words}: ${await state()}`);
      }
    }
    if (c.headline) {
      const headline = await page.textContent('#verdict');
      assert.ok(headline.includes(c.headline), `the headline does not mention ${c.headline}: ${headline}`);
    }
    for (const [id, words] of c.shows ?? []) {
      const shown = await page.locator(`[data-check-id="${id}"]`).first().textContent();
      assert.ok(shown.includes(words), `${id} does not show ${words}: ${shown}\n${await state()}`);
    }
    await assertSecretKept(page, logs, c.password);
  }
  assertNoErrors(errors);
}

test('every Outlook Anywhere scenario of the lab: the check, the verdict and the cause the page shows', { skip: needs('MIGCHECK_URL', 'MIGCHECK_OA_CASES'), timeout: 240_000 }, async (t) => {
  await assertCases(t, OA_CASES, runOutlookAnywhere);
});

test('Autodiscover to RPC proxies with CertPrincipalName none or none at all: the check and the verdict the page shows', { skip: needs('MIGCHECK_URL', 'MIGCHECK_AD_OA_CASES'), timeout: 120_000 }, async (t) => {
  await assertCases(t, AD_OA_CASES, runAutodiscover);
});

test('Autodiscover with MAPI over HTTP off, on Exchange 2007 and behind a SharePoint root domain: the settings, the EWS URL and every logon the page shows', { skip: needs('MIGCHECK_URL', 'MIGCHECK_AD_CASES'), timeout: 180_000 }, async (t) => {
  await assertCases(t, AD_CASES, runAutodiscover);
});

test('every remote-move and version scenario of the lab: the check, the verdict and the cause the page shows', { skip: needs('MIGCHECK_URL', 'MIGCHECK_EX_CASES'), timeout: 240_000 }, async (t) => {
  await assertCases(t, EX_CASES, runRemoteMove);
});

/** Asserts that a finding with `cause` is shown and one of them mentions `words`. */
async function assertFinding(page, cause, words) {
  const finding = page.locator(`.finding[data-cause="${cause}"]`);
  assert.ok((await finding.count()) >= 1, `no ${cause} finding\n${await pageState(page)}`);
  const texts = await finding.allTextContents();
  assert.ok(texts.some((s) => s.includes(words)), `the ${cause} finding does not mention ${words}: ${texts.join(' | ')}`);
}

test('remote move to a server whose MRS Proxy is off', { skip: needs(...EX_VARS, 'MIGCHECK_EX_MRS_OFF_HOST'), timeout: 60_000 }, async (t) => {
  const { page, errors, logs } = await openPage(t);
  await runRemoteMove(page, errors, { ...EX, server: EX.mrsOffHost });
  const check = page.locator('[data-check-id="mrs.credentials"][data-status="fail"]');
  assert.equal(await check.count(), 1, `mrs.credentials did not fail for ${EX.mrsOffHost}\n${await pageState(page)}`);
  assert.equal(await page.locator('#verdict[data-verdict="fail"]').count(), 1, `the verdict is not fail\n${await pageState(page)}`);
  await assertFinding(page, 'external_access', 'MRSProxyEnabled');
  await assertSecretKept(page, logs, EX.password);
  assertNoErrors(errors);
});

test('a mailbox the account may not open: the role for a remote move, the Full Access finding for a cutover', { skip: needs(...EX_VARS, ...OA_VARS, 'MIGCHECK_EX_HOST', 'MIGCHECK_EX_DENIED_MAILBOX', 'MIGCHECK_OA_DENIED_MAILBOX'), timeout: 60_000 }, async (t) => {
  const { page, errors, logs } = await openPage(t);
  await runRemoteMove(page, errors, { ...EX, server: EX.host, mailbox: EX.deniedMailbox });
  const check = page.locator('[data-check-id="ews.permission"][data-status="pass"]');
  assert.equal(await check.count(), 1, `ews.permission did not pass for ${EX.deniedMailbox} in a remote move\n${await pageState(page)}`);
  assert.ok((await check.textContent()).includes('Organization Management or Recipient Management'), `the remote move does not name the role\n${await pageState(page)}`);
  await assertSecretKept(page, logs, EX.password);
  await page.goto(URL, { waitUntil: 'load' });
  await page.waitForSelector('#wizard');
  await runOutlookAnywhere(page, errors, { ...OA, mailbox: OA.deniedMailbox });
  const denied = page.locator('[data-check-id="ews.permission"][data-status="fail"]');
  assert.equal(await denied.count(), 1, `ews.permission did not fail for ${OA.deniedMailbox} in a cutover\n${await pageState(page)}`);
  await assertFinding(page, 'permissions', 'Add-MailboxPermission');
  await assertSecretKept(page, logs, OA.password);
  assertNoErrors(errors);
});

test('a Hybrid Agent name is explained and checked from the agent\'s side', { skip: needs(...EX_VARS, 'MIGCHECK_AGENT_URL', 'MIGCHECK_AGENT_NAME'), timeout: 60_000 }, async (t) => {
  const { page, errors, logs } = await openPage(t);
  await page.goto(env.MIGCHECK_AGENT_URL, { waitUntil: 'load' });
  await page.waitForSelector('#wizard');
  await runRemoteMove(page, errors, { ...EX, server: env.MIGCHECK_AGENT_NAME });
  const state = async () => pageState(page);
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'pass', `the verdict: ${await state()}`);
  assert.ok((await page.textContent('#verdict')).includes("is a Hybrid Agent's name; its machine reaches the hosts Microsoft lists for it"), `the headline: ${await state()}`);
  const agent = await page.locator('[data-check-id="hybrid"][data-status="info"]').first().textContent();
  assert.ok(agent.includes("public name of Microsoft's Hybrid Agent"), `the agent is not explained: ${agent}`);
  assert.equal(await page.locator('[data-check-id="hybrid.outbound"][data-status="pass"]').count(), 1, `the outbound checks: ${await state()}`);
  const target = await page.locator('[data-check-id="hybrid.target"][data-status="skip"]').first().textContent();
  assert.ok(target.includes('--agent-target'), `the published server: ${target}`);
  assert.equal(await page.locator('[data-check-id="mrs"]').count(), 0, `the public name was probed: ${await state()}`);
  // The page of a relay inside the network offers the server the agent publishes: EWS and MRS Proxy there.
  await page.goto(env.MIGCHECK_AGENT_URL, { waitUntil: 'load' });
  await page.waitForSelector('#wizard');
  await runRemoteMove(page, errors, { ...EX, server: env.MIGCHECK_AGENT_NAME, agentTarget: env.MIGCHECK_EX_HOST });
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'pass', `the verdict with the published server: ${await state()}`);
  assert.equal(await page.locator('[data-check-id="mrs.credentials"][data-status="pass"]').count(), 1, `MRS Proxy on the published server: ${await state()}`);
  assert.equal(await page.locator('[data-check-id="hybrid.target"]').count(), 0, `the published server was named: ${await state()}`);
  await assertSecretKept(page, logs, EX.password);
  assertNoErrors(errors);
});

test('the remote-move fields and the mailbox are checked as typed and Run sends nothing while one is wrong', { skip: needs('MIGCHECK_URL'), timeout: 30_000 }, async (t) => {
  const { page, errors } = await openPage(t);
  const diagnoses = watchDiagnoses(page);
  // The mailbox field belongs to the modes that log on, not to the host mode.
  await chooseMode(page, 'host');
  assert.equal(await page.isVisible('#target-mailbox'), false, 'the mailbox field is shown in the host mode');
  for (const [mode, fields] of [['autodiscover', { '#email': 'alice@contoso.com' }], ['outlook-anywhere', { '#rpc-proxy': 'mail.contoso.com', '#exchange-server': 'ex01.contoso.com' }]]) {
    await chooseMode(page, mode);
    for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
    await page.click('#next');
    assert.equal(await page.isVisible('#target-mailbox'), true, `the mailbox field is not shown in the ${mode} mode`);
  }
  await chooseMode(page, 'remote-move');
  assert.equal(await page.isChecked('#mode-remote-move'), true);
  assert.equal(await page.getAttribute('#mode-remote-move', 'value'), 'remote_move');
  for (const hidden of ['#email', '#rpc-proxy', '#exchange-server', '#auth', '#host', '#allow-redirect']) {
    assert.equal(await page.isVisible(hidden), false, `${hidden} is shown in the remote-move mode`);
  }
  for (const shown of ['#user', '#password', '#target-mailbox']) {
    assert.equal(await page.isVisible(shown), true, `${shown} is not shown in the remote-move mode`);
  }

  await page.fill('#target-mailbox', 'not-an-address');
  await waitOrExplain(page, errors, '#error-target_mailbox', 'the message for the mailbox not-an-address', 5_000);
  assert.match(await page.textContent('#error-target_mailbox'), /@/, 'the mailbox error does not mention the @');
  assert.equal(await page.getAttribute('#target-mailbox', 'aria-invalid'), 'true');

  await page.fill('#remote-server', 'mail.contoso.com');
  await page.fill('#remote-server', '');
  await waitOrExplain(page, errors, '#error-remote_server', 'the message for an empty remote server', 5_000);
  assert.match(await page.textContent('#error-remote_server'), /server name/, 'the remote server error does not ask for a server name');
  assert.equal(await page.getAttribute('#remote-server', 'aria-invalid'), 'true');
  await page.fill('#user', 'CONTOSO\\migadmin');
  await page.fill('#password', 'not-empty');
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled without a remote server');
  await page.click('#run', { force: true });
  await page.press('#remote-server', 'Enter');

  // The server right, the mailbox still wrong: nothing goes out either.
  await page.fill('#remote-server', 'mail.contoso.com');
  await page.waitForSelector('#error-remote_server', { state: 'detached', timeout: 5_000 });
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled with a wrong mailbox');
  await page.press('#target-mailbox', 'Enter');
  await page.waitForTimeout(300);
  assert.deepEqual(diagnoses, [], 'a diagnosis was requested while a field is wrong');
  assert.equal(await page.locator('#verdict, [data-check-id]').count(), 0, 'a run started while a field is wrong');

  // The mailbox is optional in this mode: emptied, the form is complete.
  await page.fill('#target-mailbox', '');
  await page.waitForSelector('#error-target_mailbox', { state: 'detached', timeout: 5_000 });
  assert.equal(await page.isEnabled('#run'), true, `Run stays disabled for a valid form\n${await pageState(page)}`);
  await page.fill('#target-mailbox', 'adele@contoso.com');
  assert.equal(await page.isEnabled('#run'), true, `Run stays disabled for a valid mailbox\n${await pageState(page)}`);
  assert.deepEqual(diagnoses, [], 'a diagnosis was requested before Run');
  assertNoErrors(errors);
});
