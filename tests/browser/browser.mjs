// The headless Chromium the browser tests share: where it is, its flags, and a fresh profile per test.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.MIGCHECK_CHROMIUM ?? '/usr/bin/chromium';
export const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * A headless Chromium with a throw-away profile, closed (and the profile removed) after test `t`.
 * `options` go to playwright's launchPersistentContext (viewport, colorScheme, bypassCSP ...).
 * `errors` collects page errors and console errors.
 */
export async function launch(t, options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'migcheck-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1000, height: 800 },
    ...options,
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
  return { context, page, errors };
}

/** The first field of each mode, shown once the mode is chosen. */
export const FIRST_FIELD = { autodiscover: '#email', host: '#host', 'outlook-anywhere': '#rpc-proxy', 'remote-move': '#remote-server' };
/** The answer to the wizard's first question ("What kind of migration?") for each mode. */
export const KIND = { autodiscover: 'staged', 'outlook-anywhere': 'staged', 'remote-move': 'remote-move', host: 'host' };

/** Walks the wizard back to step 1, answers it and (cutover or staged) step 2 for `mode`, and waits for its first field. */
export async function chooseMode(page, mode) {
  while (await page.isVisible('#back')) await page.click('#back');
  await page.check(`#mode-${KIND[mode]}`);
  await page.click('#next');
  if (KIND[mode] === 'staged') await page.check(`#mode-${mode}`);
  await page.waitForSelector(FIRST_FIELD[mode], { state: 'visible', timeout: 5_000 });
}
