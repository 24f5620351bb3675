// Times the page in headless Chromium for the benchmarks (not a test): for each run, in a fresh context
// (empty cache, so every load is a first load), the first contentful paint and the moment the wizard's
// first choice is in the page (yew has mounted it with its handlers: the form is interactive), both in ms
// since navigation started; and what came over the wire, from DevTools' own accounting: per response its
// path, Content-Encoding and `encodedDataLength` (headers and body as received, before decoding).
// Then checks the form answers a click. Prints one JSON line.
//
// Env: MIGCHECK_URL; RUNS (default 10); NETWORK: `loopback` (default) or `slow4g` (DevTools' network
// emulation: 150 ms latency, 1.6 Mbit/s down, 750 kbit/s up); ENCODINGS: the codings Chromium may accept,
// comma-separated (`br,gzip`, `gzip`; empty: identity only), default what Chromium sends by itself
// (gzip, deflate, br, zstd).

import { chromium } from 'playwright-core';
import { CHROMIUM, FLAGS } from './browser.mjs';

const URL = process.env.MIGCHECK_URL;
const RUNS = Number(process.env.RUNS ?? 10);
const NETWORK = process.env.NETWORK ?? 'loopback';
const ENCODINGS = process.env.ENCODINGS;

// DevTools' throttling works in bytes per second: 1.6 Mbit/s = 200,000 B/s, 750 kbit/s = 93,750 B/s.
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 };

/** Records every response of `page` through a CDP session: path, status, encoding, bytes received. */
async function wire(page) {
  const cdp = await page.context().newCDPSession(page);
  const requests = new Map();
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const header = Object.entries(response.headers).find(([k]) => k.toLowerCase() === 'content-encoding');
    requests.set(requestId, {
      path: new globalThis.URL(response.url).pathname,
      status: response.status,
      encoding: header ? header[1] : 'identity',
    });
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const r = requests.get(requestId);
    if (r) r.bytes = encodedDataLength;
  });
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (NETWORK === 'slow4g') await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  else if (NETWORK !== 'loopback') throw new Error(`NETWORK=${NETWORK}: loopback or slow4g`);
  if (ENCODINGS !== undefined) {
    // Network.setAcceptedEncodings is not in every Chromium; a request header set here replaces the
    // browser's own Accept-Encoding.
    const codings = ENCODINGS.split(',').map((e) => e.trim()).filter(Boolean);
    const header = codings.length ? codings.join(', ') : 'identity';
    await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': header } });
  }
  return () => [...requests.values()];
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
const runs = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const responses = await wire(page);
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.querySelector('#mode-staged')) {
          window.__interactiveAt = performance.now();
          observer.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(URL, { waitUntil: 'load' });
    await page.waitForSelector('#mode-staged');
    await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
    const timing = await page.evaluate(() => ({
      first_paint_ms: performance.getEntriesByName('first-contentful-paint')[0].startTime,
      interactive_ms: window.__interactiveAt,
    }));
    // What the load itself fetched (every response finished: no request for 500 ms), before the click
    // below asks for more.
    await page.waitForLoadState('networkidle');
    const received = responses();
    if (i === 0) {
      await page.check('#mode-staged');
      await page.click('#next');
      await page.waitForSelector('#mode-autodiscover', { state: 'visible' });
    }
    runs.push({ ...timing, responses: received });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ runs }));
