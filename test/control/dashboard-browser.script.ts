/**
 * The browser half of dashboard-browser.test.ts, run inside the lab's client host (where a
 * user's browser would be): Debian's chromium driven by playwright-core. It talks to the test
 * through files in its own /tmp: it says `ready` once it sees the fleet green, waits for
 * `fault-injected`, then follows the incident to the end. Bounded everywhere by timeouts.
 * argv: base URL, user, password file, output folder.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const [base, user, passwordFile, out] = process.argv.slice(2) as [string, string, string, string];
const password = (await readFile(passwordFile, 'utf8')).trim();
const result: Record<string, unknown> = {};
const phase = (what: string) => process.stderr.write(`browser: ${what}\n`);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The page's own errors (a render that throws leaves the page as it was): kept for the failure message.
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(60_000);
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

  await page.goto(`${base}/`);
  result.redirectedTo = new URL(page.url()).pathname;
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  const nav = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).transferSize);
  result.pageBytes = nav;
  await page.waitForSelector('#live.ok');
  // Green: every machine's verdict is alive.
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#grid tr[data-machine]')];
    return rows.length > 0 && rows.every((r) => r.querySelector('td:nth-child(2) .t.ok'));
  }, undefined, { timeout: 90_000 });
  result.machines = await page.$$eval('#grid tr[data-machine]', (rows) => rows.map((r) => r.getAttribute('data-machine')));
  await page.locator('#grid').screenshot({ path: `${out}/dashboard-grid.png` });
  await page.screenshot({ path: `${out}/dashboard-green.png`, fullPage: true });
  const navigationsBefore = navigations;
  phase('fleet green');
  await writeFile(`${out}/ready`, '');

  for (let i = 0; i < 600 && !existsSync(`${out}/fault-injected`); i++) await page.waitForTimeout(200);
  if (!existsSync(`${out}/fault-injected`)) throw new Error('the test never injected the fault');
  phase('fault injected');
  // The incident and the plan arrive on the open page, without a reload.
  await page.waitForSelector('#plans section[data-run]', { timeout: 120_000 });
  result.incidentShown = await page.locator('#timeline').innerText();
  result.planTitle = await page.locator('#plans section[data-run] h2').first().innerText();
  result.reloadedBeforeApprove = navigations !== navigationsBefore;
  await page.screenshot({ path: `${out}/dashboard-plan.png`, fullPage: true });

  // When each step shows as verified on the page (to compare with when it ended).
  await page.evaluate(() => {
    const w = window as unknown as { seen: Record<string, number> };
    w.seen = {};
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#runs details[data-outcome] li[data-state="verified"]')) {
        const run = li.closest('details')!.getAttribute('data-run')!;
        const key = `${run} ${[...li.parentElement!.children].indexOf(li)}`;
        w.seen[key] ??= Date.now();
      }
    }).observe(document.body, { subtree: true, childList: true });
  });
  const runId = await page.locator('#plans section[data-run]').first().getAttribute('data-run');
  result.plannedRun = runId;
  await page.click('#plans button.approve');
  phase('approved');
  await page.waitForSelector('#runs details[data-outcome="running"] li[data-state="verified"]', { timeout: 120_000 });
  await page.locator('#runs').screenshot({ path: `${out}/dashboard-run-live.png` });
  await page.waitForSelector('#runs details[data-outcome="recovered"]', { timeout: 240_000 });
  const recovered = page.locator('#runs details[data-outcome="recovered"]').first();
  result.recoveredRun = await recovered.getAttribute('data-run');
  result.runText = await recovered.innerText();
  await page.locator('#runs').screenshot({ path: `${out}/dashboard-run.png` });
  phase('recovered');

  // The grid follows the new roles: the standby is the primary now.
  const recoveredAt = Date.now();
  try {
    await page.waitForFunction(() => {
      const cell = document.querySelector('#grid tr[data-machine="backup"] [data-col="MariaDB"]');
      const roles = document.querySelector('#grid tr[data-machine="backup"] [data-roles]')?.getAttribute('data-roles') ?? '';
      return cell?.textContent === 'primary' && roles.split(' ').includes('db-primary');
    }, undefined, { timeout: 120_000 });
  } catch (error) {
    const view = await page.evaluate(async () => (await fetch('/api/view')).json()) as { at: string; readingAt?: string; machines: Array<{ name: string }>; events: Array<{ type: string }> };
    await writeFile(`${out}/view-at-failure.json`, JSON.stringify(view, null, 2));
    // What the CI log keeps of it: the machine's row and when the conditions were last read.
    process.stderr.write(`view at ${view.at}, conditions read at ${view.readingAt ?? 'never'}: ${JSON.stringify(view.machines.find((m) => m.name === 'backup'))}; page errors: ${JSON.stringify(pageErrors.slice(-5))}; last events: ${view.events.slice(-8).map((e) => JSON.stringify(e).slice(0, 200)).join(' | ')}\n`);
    await page.screenshot({ path: `${out}/dashboard-at-failure.png`, fullPage: true });
    throw error;
  }
  result.gridAfterRecoveredMs = Date.now() - recoveredAt;
  await page.locator('#grid').screenshot({ path: `${out}/dashboard-grid-after.png` });
  result.reloaded = navigations !== navigationsBefore;
  // On a phone: the grid scrolls sideways inside its card, the page does not.
  await page.setViewportSize({ width: 390, height: 844 });
  result.phoneOverflowPx = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: `${out}/dashboard-phone.png` });

  // Step end (journal) → shown on the page.
  const view = await page.evaluate(async () => (await fetch('/api/view')).json()) as { runs: Array<{ id: string; steps: Array<{ parent: number | null; endedAt: number | null; state: string }> }> };
  const run = view.runs.find((r) => r.id === result.recoveredRun)!;
  const seen = await page.evaluate(() => (window as unknown as { seen: Record<string, number> }).seen);
  const shown = run.steps.filter((s) => s.parent === null || run.steps.length < 40);
  result.stepLatencyMs = shown.flatMap((s, i) => {
    const at = seen[`${run.id} ${i}`];
    return at !== undefined && s.endedAt ? [at - s.endedAt] : [];
  });
  result.pageErrors = pageErrors;
  phase('done');
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
