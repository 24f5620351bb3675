// Times the page in headless Chromium for the benchmarks (not a test): for each run, in a fresh context
// (empty cache), the first contentful paint and the moment the wizard's first choice is in the page (yew
// has mounted it with its handlers: the form is interactive), both in ms since navigation started.
// Then checks the form answers a click. Prints one JSON line. Env: MIGCHECK_URL, RUNS (default 10).

import { chromium } from 'playwright-core';
import { CHROMIUM, FLAGS } from './browser.mjs';

const URL = process.env.MIGCHECK_URL;
const RUNS = Number(process.env.RUNS ?? 10);

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
const runs = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
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
    if (i === 0) {
      await page.check('#mode-staged');
      await page.click('#next');
      await page.waitForSelector('#mode-autodiscover', { state: 'visible' });
    }
    runs.push(timing);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ runs }));
