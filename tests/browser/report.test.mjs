// Browser tests of the report side of the page: the live tree grouped by KB step, the verdict, the
// findings with their evidence and fix, the timing chart, the exports, print, phone width, dark mode and
// axe-core. Run with `MIGCHECK_URL=http://127.0.0.1:PORT/ node --test tests/browser/report.test.mjs`.
//
// Only MIGCHECK_URL is needed (a relay serving the page): each test starts a small server on
// 127.0.0.1 that passes every request on to MIGCHECK_URL but answers POST /api/v1/diagnose itself
// with a canned NDJSON stream (below), written event by event with pauses, so the page really reads it
// as a stream. Screenshots go to target/browser-artifacts/ under the workspace root.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { launch } from './browser.mjs';

const URL_ = process.env.MIGCHECK_URL;
const skip = URL_ ? false : 'MIGCHECK_URL not set: start `migcheck serve` and point MIGCHECK_URL at it';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const ARTIFACTS = fileURLToPath(new URL('../../target/browser-artifacts/', import.meta.url));

// ---------------------------------------------------------------------------------------------------
// The canned diagnosis: an Autodiscover run whose Outlook Anywhere proxy does not offer Basic (KB step
// 1) and whose certificate is about to expire (KB step 2).

const t = (phase, start_ms, duration_ms) => ({ phase, start_ms, duration_ms });
// Every field present, empty or not, as the relay sends a check.
const check = (id, kb_step, status, summary, more = {}) => ({
  id, title: more.title ?? id, status, summary,
  evidence: { facts: [], certificates: [], ...more.evidence },
  elapsed_ms: more.elapsed_ms ?? 5,
  timings: more.timings ?? [],
  kb_step,
  children: more.children ?? [],
});
const fact = (label, value) => ({ label, value });
const cert = (subject, issuer, san, self_signed) => ({
  subject, issuer, san, not_before: '2025-01-01T00:00:00Z', not_after: '2026-08-01T00:00:00Z',
  key_type: 'RSA', key_bits: 2048, signature_algorithm: 'sha256WithRSAEncryption',
  sha256: '3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29',
  thumbprint: 'A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4', serial: '0A:1B:2C:3D', self_signed,
});
const BASIC_FIX = '# Offer Basic on the Outlook Anywhere virtual directory, then restart IIS\n' +
  'Get-OutlookAnywhere -Server EX01 | Set-OutlookAnywhere -ExternalClientAuthenticationMethod Basic -IISAuthenticationMethods Basic,NTLM\n' +
  'iisreset /noforce';
const CERT_FIX = '# Renew the certificate before it expires\n' +
  'Get-ExchangeCertificate -Thumbprint A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4 | New-ExchangeCertificate -PrivateKeyExportable $true';

const CHECKS = [
  check('autodiscover', 3, 'pass', 'Autodiscover answered at autodiscover.contoso.com.', {
    title: 'Autodiscover for adele@contoso.com', elapsed_ms: 140, children: [
      check('autodiscover.root', 3, 'info', 'contoso.com did not answer (tried first).', {
        timings: [t('dns', 0, 4), t('tcp', 4, 3), t('tls', 7, 20)],
      }),
      check('autodiscover.host', 3, 'pass', 'Settings returned with Basic.', {
        title: 'autodiscover.contoso.com', elapsed_ms: 95,
        timings: [t('dns', 0, 5), t('tcp', 5, 4), t('tls', 9, 31), t('http', 40, 55)],
        evidence: { facts: [
          fact('POST https://autodiscover.contoso.com/autodiscover/autodiscover.xml', 'at 203.0.113.5:443; TLS 1.2; 200 OK'),
          fact('x-feserver', 'EX01'),
        ] },
      }),
      check('autodiscover.settings', 3, 'pass', 'EXPR mail.contoso.com, EXCH ex01.contoso.com.', {
        evidence: { facts: [fact('Outlook Anywhere host (EXPR Server)', 'mail.contoso.com'), fact('CertPrincipalName', 'msstd:mail.contoso.com')] },
      }),
    ],
  }),
  check('tls', 2, 'warn', 'The certificate expires in 12 days.', {
    title: 'Certificate and TLS of mail.contoso.com', elapsed_ms: 60, timings: [t('tcp', 100, 3), t('tls', 103, 27)], children: [
      check('tls.handshake', 2, 'pass', 'TLS 1.2 with ECDHE-RSA-AES256-GCM-SHA384.', {
        evidence: { facts: [fact('Negotiated version', 'TLS 1.2'), fact('Cipher suite', 'ECDHE-RSA-AES256-GCM-SHA384')] },
      }),
      check('tls.chain', 2, 'pass', 'The chain leads to a trusted root.', {
        evidence: { certificates: [
          cert('CN=mail.contoso.com', 'CN=Contoso Issuing CA', ['mail.contoso.com', 'autodiscover.contoso.com'], false),
          cert('CN=Contoso Issuing CA', 'CN=Contoso Root CA', [], false),
        ] },
      }),
      check('tls.dates', 2, 'warn', 'mail.contoso.com expires on 2026-08-01 (12 days left).'),
    ],
  }),
  check('oa', 1, 'fail', 'Outlook Anywhere refuses the migration service.', {
    title: 'Outlook Anywhere through mail.contoso.com', elapsed_ms: 80, children: [
      check('oa.auth', 1, 'fail', 'The proxy offers NTLM and Negotiate, not Basic.', {
        // A URL in a title is one unbreakable word, wider than a phone: it must wrap, not widen the page.
        title: 'Authentication on https://mail.contoso.com/rpc/rpcproxy.dll?ex01.contoso.com:6001', timings: [t('tcp', 140, 2), t('tls', 142, 25), t('http', 167, 30)],
        evidence: { facts: [
          fact('RPC_IN_DATA https://mail.contoso.com/rpc/rpcproxy.dll', '401 Unauthorized'),
          fact('WWW-Authenticate', 'NTLM | Negotiate'),
        ] },
      }),
      check('oa.ping', 1, 'skip', 'Not tried: Basic is not offered, no password was sent.'),
    ],
  }),
  check('ews', 4, 'pass', 'EWS accepts the migration account.', {
    title: 'EWS at mail.contoso.com', children: [
      check('ews.permission', 4, 'pass', 'CONTOSO\\migadmin opens the Inbox of adele@contoso.com.', {
        timings: [t('http', 200, 60), t('rpc', 260, 18)],
        evidence: { facts: [fact('SOAP response', 'NoError'), fact('ServerVersionInfo', '15.2.1544.4')] },
      }),
    ],
  }),
  check('version', null, 'pass', 'Exchange Server 2019 CU14.', { evidence: { facts: [fact('X-OWA-Version', '15.2.1544.4')] } }),
];

const REPORT = {
  schema_version: 1,
  verdict: 'fail',
  headline: 'Outlook Anywhere does not offer Basic authentication to the migration service.',
  inputs: { mode: 'autodiscover', email: 'adele@contoso.com', user: 'CONTOSO\\migadmin', allow_credential_redirect: false },
  checks: CHECKS,
  findings: [
    { cause: 'external_access', severity: 'fail', kb_step: 1, summary: 'IIS on the RPC proxy offers NTLM and Negotiate but not Basic.', fix: BASIC_FIX, check_ids: ['oa.auth'] },
    { cause: 'certificate', severity: 'warn', kb_step: 2, summary: 'The certificate of mail.contoso.com expires in 12 days.', fix: CERT_FIX, check_ids: ['tls.dates', 'tls.chain'] },
  ],
  elapsed_ms: 300,
};

/** Every check of `checks`, depth first. */
const flat = (checks) => checks.flatMap((c) => [c, ...flat(c.children ?? [])]);
const TIMED = flat(CHECKS).filter((c) => c.timings.length > 0);

/**
 * The stream: each check's `started` (parents first, with its KB step as the relay sends it), its
 * `finished` after its children; `hold` comes after the first top-level check (Autodiscover) finished
 * and the certificate checks started.
 */
function events() {
  const out = [];
  const run = (c, parent) => {
    out.push({ event: 'started', id: c.id, title: c.title, parent, kb_step: c.kb_step });
    (c.children ?? []).forEach((child) => run(child, c.id));
    out.push({ event: 'finished', check: c });
  };
  run(CHECKS[0], null);
  const tls = CHECKS[1];
  out.push({ event: 'started', id: tls.id, title: tls.title, parent: null, kb_step: tls.kb_step });
  tls.children.forEach((c) => out.push({ event: 'started', id: c.id, title: c.title, parent: tls.id, kb_step: c.kb_step }));
  out.push('hold');
  tls.children.forEach((c) => out.push({ event: 'finished', check: c }));
  out.push({ event: 'finished', check: tls });
  CHECKS.slice(2).forEach((c) => run(c, null));
  out.push({ event: 'done', report: REPORT });
  return out;
}

/**
 * A server on 127.0.0.1 in front of MIGCHECK_URL that answers the diagnosis itself. With `hold`, the
 * stream stops at its hold point until `release()` is called.
 */
async function fakeRelay(testContext, { hold = false, pause = 15 } = {}) {
  let release;
  const held = hold ? new Promise((resolve) => { release = resolve; }) : Promise.resolve();
  const upstream = new URL(URL_);
  const server = http.createServer(async (req, res) => {
    if (req.method === 'POST' && req.url.startsWith('/api/v1/diagnose')) {
      for await (const _ of req); // the request body (the form's inputs) is not needed
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      for (const event of events()) {
        if (event === 'hold') {
          await held;
          continue;
        }
        res.write(`${JSON.stringify(event)}\n`);
        await new Promise((r) => setTimeout(r, pause));
      }
      res.end();
      return;
    }
    const forward = http.request(new URL(req.url, upstream), {
      method: req.method,
      headers: { ...req.headers, host: upstream.host },
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
    req.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  testContext.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return { url: `http://127.0.0.1:${server.address().port}/`, release: () => release?.() };
}

// ---------------------------------------------------------------------------------------------------

/** Opens the page through a fake relay; `options` go to the browser context. */
async function open(tc, { hold = false, ...options } = {}) {
  const fake = await fakeRelay(tc, { hold });
  const { context, page, errors } = await launch(tc, options);
  await page.goto(fake.url, { waitUntil: 'load' });
  await page.waitForSelector(FORM, { state: 'attached', timeout: 10_000 });
  return { context, page, errors, fake };
}

/** The form that starts a diagnosis (the wizard). */
const FORM = '#wizard, form.diagnose';

/**
 * Starts a diagnosis with the wizard (any valid request: the fake relay answers the canned stream):
 * "Just check a certificate", Next, a host name, Run.
 */
async function startRun(page) {
  await page.check('#mode-host');
  if (await page.locator('#next').isVisible()) await page.click('#next');
  await page.waitForSelector('#host', { state: 'visible', timeout: 5_000 });
  await page.fill('#host', 'mail.contoso.com');
  await page.click('#run');
}

/** Starts a diagnosis and waits for the verdict. */
async function runToVerdict(page, errors) {
  await startRun(page);
  try {
    await page.waitForSelector('#verdict', { state: 'visible', timeout: 15_000 });
  } catch {
    assert.fail(`no verdict within 15 s\n${errors.join('\n')}\n${await page.locator('main').innerText()}`);
  }
}

/** Opens the page through a fake relay and runs the canned diagnosis to its verdict. */
async function atVerdict(tc, options) {
  const opened = await open(tc, options);
  await runToVerdict(opened.page, opened.errors);
  return opened;
}

const noErrors = (errors) => assert.deepEqual(errors, [], `the page logged errors:\n${errors.join('\n')}`);

/** Runs axe-core on the page; fails on serious or critical violations and prints the counts. */
async function axe(page, what) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const counts = {};
  for (const v of violations) counts[v.impact] = (counts[v.impact] ?? 0) + 1;
  const said = Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`axe (${what}): ${violations.length} violations${said ? ` (${said})` : ''}${violations.map((v) => `\n  ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')}`).join('')}`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe found serious or critical violations on ${what}:\n${JSON.stringify(bad, null, 2)}`);
}

async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

// ---------------------------------------------------------------------------------------------------

test('the tree fills in live, with the progress, before the verdict', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors, fake } = await open(tc, { hold: true });
  await startRun(page);
  // The stream is held after the Autodiscover checks finished and the certificate checks started.
  await page.waitForSelector('[data-check-id="tls.dates"][data-status="running"]', { state: 'visible' });
  const live = await page.evaluate(() => ({
    verdict: document.querySelectorAll('#verdict').length,
    host: document.querySelector('[data-check-id="autodiscover.host"]')?.dataset.status,
    hostTime: document.querySelector('[data-check-id="autodiscover.host"] .ms')?.textContent,
    tls: document.querySelector('[data-check-id="tls"]')?.dataset.status,
    finished: Number(document.getElementById('progress')?.dataset.finished),
    started: Number(document.getElementById('progress')?.dataset.started),
    bar: [document.querySelector('#progress progress')?.value, document.querySelector('#progress progress')?.max],
    text: document.getElementById('progress-text')?.textContent,
  }));
  assert.equal(live.verdict, 0, 'the verdict is shown while the stream is held');
  assert.equal(live.host, 'pass');
  assert.equal(live.hostTime, '95 ms', 'a finished check shows its elapsed time');
  assert.equal(live.tls, 'running');
  assert.deepEqual([live.finished, live.started], [4, 8], `progress: ${JSON.stringify(live)}`);
  assert.deepEqual(live.bar, [4, 8]);
  assert.match(live.text, /4 of 8/);
  assert.equal(await page.isDisabled('#run'), true, 'Run is enabled while the diagnosis runs');
  // The running certificate checks already sit in their KB step's group.
  assert.equal(await page.locator('[data-kb-group="2"] [data-check-id="tls.chain"][data-status="running"]').count(), 1);

  // A running check counts its time up.
  await page.waitForFunction(() => /^running… \d+\.\d s$/.test(document.querySelector('[data-check-id="tls.dates"] .ms')?.textContent));

  fake.release();
  await page.waitForSelector('#verdict[data-verdict="fail"]', { state: 'visible' });
  assert.equal(await page.locator('[data-status="running"]').count(), 0);
  const total = flat(CHECKS).length;
  assert.equal(await page.getAttribute('#progress', 'data-finished'), String(total));
  assert.equal(await page.getAttribute('#progress', 'data-started'), String(total));
  noErrors(errors);
});

test('the checks are grouped by the steps of KB 2389390', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors } = await atVerdict(tc);
  const groups = await page.$$eval('.kb-group', (gs) => gs.map((g) => ({
    key: g.dataset.kbGroup,
    heading: g.querySelector('h3').textContent,
    checks: [...g.querySelectorAll(':scope > ul > [data-check-id]')].map((c) => c.dataset.checkId),
  })));
  assert.deepEqual(groups, [
    { key: '1', heading: 'Step 1 · Outlook Anywhere', checks: ['oa'] },
    { key: '2', heading: 'Step 2 · Certificate', checks: ['tls'] },
    { key: '3', heading: 'Step 3 · Autodiscover', checks: ['autodiscover'] },
    { key: '4', heading: 'Step 4 · Permissions', checks: ['ews'] },
    { key: 'other', heading: 'Other checks', checks: ['version'] },
  ]);
  noErrors(errors);
});

test('the verdict comes first, then the findings in the report order with their evidence, then the tree', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors } = await atVerdict(tc);
  assert.equal(await page.textContent('#verdict h2'), REPORT.headline);
  // Run was disabled while the checks ran: the focus goes to the verdict, not to the page's body.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'verdict');
  const order = await page.evaluate(() => {
    const [v, f, c, w] = ['#verdict', '#findings', '#checks', '#waterfall'].map((s) => document.querySelector(s));
    const before = (a, b) => Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
    return [before(v, f), before(f, c), before(c, w)];
  });
  assert.deepEqual(order, [true, true, true], 'not verdict → findings → checks → timing');
  const causes = await page.$$eval('.finding', (fs) => fs.map((f) => f.dataset.cause));
  assert.deepEqual(causes, REPORT.findings.map((f) => f.cause));

  // Each finding shows the evidence of the checks it names, and its fix.
  const basic = page.locator('.finding[data-cause="external_access"]');
  const evidence = basic.locator('[data-evidence-of="oa.auth"]');
  assert.equal(await evidence.isVisible(), true);
  assert.match(await evidence.innerText(), /WWW-Authenticate[\s\S]*NTLM \| Negotiate/);
  assert.equal(await basic.locator('.fix pre').innerText(), BASIC_FIX);
  const cert = page.locator('.finding[data-cause="certificate"]');
  assert.deepEqual(await cert.locator('[data-evidence-of]').evaluateAll((es) => es.map((e) => e.dataset.evidenceOf)), ['tls.dates', 'tls.chain']);
  assert.equal(await cert.locator('[data-evidence-of="tls.chain"] table.cert').count(), 2, 'the chain is shown in the finding');

  // Every check of the tree can be opened to its evidence, with the mouse or the keyboard.
  const chain = page.locator('[data-check-id="tls.chain"] > details');
  assert.equal(await chain.locator('table.cert').first().isVisible(), false, 'the evidence starts closed');
  await chain.locator('summary').focus();
  await page.keyboard.press('Enter');
  assert.equal(await chain.locator('table.cert').first().isVisible(), true, 'Enter on the summary does not open the evidence');
  assert.match(await chain.innerText(), /CN=Contoso Issuing CA/);
  const auth = page.locator('[data-check-id="oa.auth"] > details');
  await auth.locator('summary').click();
  assert.match(await auth.innerText(), /RPC_IN_DATA https:\/\/mail\.contoso\.com\/rpc\/rpcproxy\.dll/);
  noErrors(errors);
});

test('Copy puts the fix on the clipboard and says so', { skip, timeout: 60_000 }, async (tc) => {
  const { context, page, errors, fake } = await open(tc);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(fake.url).origin });
  await runToVerdict(page, errors);
  const button = page.locator('.finding[data-cause="external_access"] .copy-fix');
  assert.equal(await button.innerText(), 'Copy');
  await button.click();
  await page.waitForSelector('.finding[data-cause="external_access"] .copy-fix[data-copied="yes"]');
  assert.match(await button.innerText(), /Copied/);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), BASIC_FIX);
  assert.equal(await page.locator('.finding[data-cause="certificate"] .copy-fix').getAttribute('data-copied'), 'no', 'the other finding says copied too');
  noErrors(errors);
});

test('export: the JSON is the report, the text summary is for a ticket', { skip, timeout: 60_000 }, async (tc) => {
  const { context, page, errors, fake } = await open(tc);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(fake.url).origin });
  await runToVerdict(page, errors);

  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  assert.equal(json.suggestedFilename(), 'migcheck-report.json');
  const saved = readFileSync(await json.path(), 'utf8');
  assert.deepEqual(JSON.parse(saved), REPORT, 'the downloaded JSON is not the report');
  assert.ok(saved.includes('\n  "verdict": "fail"'), 'the JSON is not pretty-printed');

  await page.click('#export-text');
  await page.waitForSelector('#export-text[data-copied="yes"]');
  const text = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(text.startsWith(`migcheck: FAIL\n${REPORT.headline}\n`), text);
  assert.match(text, /1\. \[fail\] external access, KB step 1: IIS on the RPC proxy/);
  assert.ok(text.includes(BASIC_FIX.split('\n').map((l) => `     ${l}`).join('\n')), `the fix is not in the summary:\n${text}`);
  assert.match(text, /\n {2}\[fail\] Outlook Anywhere through mail\.contoso\.com \(oa, 80 ms\)\n {6}Outlook Anywhere refuses/);
  assert.match(text, /\n {4}\[fail\] Authentication on https:\/\/mail\.contoso\.com\/rpc\/rpcproxy\.dll\?ex01\.contoso\.com:6001 \(oa\.auth, 5 ms\)\n/);
  assert.match(text, /\n {2}email: adele@contoso\.com\n/);
  assert.doesNotMatch(text, /^\s*password:/m, 'the inputs name a password');

  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#export-text-file')]);
  assert.equal(file.suggestedFilename(), 'migcheck-report.txt');
  assert.equal(readFileSync(await file.path(), 'utf8'), text, 'the .txt is not the copied summary');
  noErrors(errors);
});

test('print: the verdict, the findings and the whole tree with its evidence; no form, no buttons', { skip, timeout: 60_000 }, async (tc) => {
  const { context, page, errors } = await open(tc);
  await context.addInitScript(() => {
    window.printed = 0;
    window.print = () => { window.printed += 1; };
  });
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector(FORM, { state: 'attached' });
  await runToVerdict(page, errors);
  await page.emulateMedia({ media: 'print' });
  const shown = async (selector) => page.locator(selector).first().isVisible();
  assert.equal(await shown('#verdict'), true);
  assert.equal(await shown('.finding[data-cause="certificate"]'), true);
  assert.equal(await shown('[data-check-id="tls.chain"] > details table.cert'), true, 'closed evidence is not printed');
  assert.equal(await shown('[data-check-id="version"]'), true);
  for (const hidden of ['#wizard', '#run', 'form', '#export', '.copy-fix', '#progress', 'footer']) {
    if (await page.locator(hidden).count()) assert.equal(await shown(hidden), false, `${hidden} is printed`);
  }
  await screenshot(page, 'verdict-print.png');
  await page.emulateMedia({ media: 'screen' });
  await page.click('#export-print');
  assert.equal(await page.evaluate(() => window.printed), 1, 'Print did not call window.print()');
  assert.equal(await page.locator('#report details:not([open])').count(), 0, 'Print leaves evidence closed');
  noErrors(errors);
});

test('the timing chart: one row per timed check, a bar per phase, an axis and a legend', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors } = await atVerdict(tc);
  const rows = await page.$$eval('#waterfall svg g.row', (gs) => gs.map((g) => ({
    id: g.dataset.rowOf,
    phases: [...g.querySelectorAll('rect.bar')].map((b) => b.dataset.phase),
    titles: [...g.querySelectorAll('rect.bar > title')].map((x) => x.textContent),
  })));
  assert.deepEqual(rows.map((r) => r.id), TIMED.map((c) => c.id));
  assert.deepEqual(rows.map((r) => r.phases), TIMED.map((c) => c.timings.map((x) => x.phase)));
  assert.equal(rows[1].titles[3], 'autodiscover.host · HTTP: 55 ms (from 40 ms to 95 ms)');
  const axis = await page.$$eval('#waterfall text.axis', (ts) => ts.map((x) => x.textContent));
  assert.equal(axis[0], '0 ms');
  assert.equal(axis.at(-1), '300 ms', `axis: ${axis}`);
  assert.deepEqual(await page.$$eval('#waterfall .legend li', (ls) => ls.map((l) => l.textContent)), ['DNS', 'TCP', 'TLS', 'HTTP', 'RPC']);
  // Bars are placed on the time axis: a later phase starts further right.
  const x = await page.$$eval('[data-row-of="ews.permission"] rect.bar', (bs) => bs.map((b) => Number(b.getAttribute('x'))));
  assert.ok(x[0] < x[1], `bars not in time order: ${x}`);
  // Labels are drawn in the page's text colour, in both schemes.
  const fill = () => page.$eval('#waterfall text.label', (e) => getComputedStyle(e).fill);
  const light = await fill();
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.notEqual(await fill(), light, 'the labels keep their light-mode colour in dark mode');
  noErrors(errors);
});

test('at phone width nothing scrolls sideways but the chart in its own box', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors } = await open(tc, { viewport: { width: 375, height: 740 } });
  const width = () => page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok((await width()) <= 375, `the form is ${await width()} px wide at 375`);
  await runToVerdict(page, errors);
  await page.click('[data-check-id="tls.chain"] > details > summary');
  await page.click('[data-check-id="autodiscover.host"] > details > summary');
  assert.ok((await width()) <= 375, `the report is ${await width()} px wide at 375`);
  const box = await page.$eval('.waterfall-box', (b) => [b.scrollWidth, b.clientWidth]);
  assert.ok(box[1] <= 375, `the chart's box is ${box[1]} px wide`);
  await screenshot(page, 'verdict-phone.png');
  noErrors(errors);
});

test('dark mode follows the system and the verdict page is saved as screenshots', { skip, timeout: 60_000 }, async (tc) => {
  const { page, errors } = await atVerdict(tc);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: 'light' });
  const light = await background();
  await screenshot(page, 'verdict.png');
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await background();
  assert.notEqual(dark, light, 'the background does not change with the colour scheme');
  assert.equal(dark, 'rgb(15, 18, 22)');
  await screenshot(page, 'verdict-dark.png');
  noErrors(errors);
});

test('axe-core finds nothing serious on the form and on the report, light and dark', { skip, timeout: 90_000 }, async (tc) => {
  const { page, errors } = await open(tc, { bypassCSP: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await axe(page, 'the form, light');
  await runToVerdict(page, errors);
  // With the evidence open, so its tables and lists are checked too.
  await page.evaluate(() => document.querySelectorAll('#report details').forEach((d) => { d.open = true; }));
  await axe(page, 'the report, light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await axe(page, 'the report, dark');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector(FORM, { state: 'attached' });
  await axe(page, 'the form, dark');
  noErrors(errors);
});
