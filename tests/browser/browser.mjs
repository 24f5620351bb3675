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
