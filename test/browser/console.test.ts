import { mkdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gate, Run, Step } from '@sluice/shared-protocol';
import { browserSkipReason, launchHeadlessChromium } from '@sluice/test-kit';
import { FIX_TASK, HttpPlanner, REPO_ROOT, git, startStack, type Stack } from '../helpers/index.mjs';

const SKIP = browserSkipReason();
if (SKIP) console.warn(`console browser tests: skipped: ${SKIP}`);

/** Each view's screenshot is kept here (gitignored) for whoever reviews a run. */
const SHOTS = join(REPO_ROOT, 'test-results', 'console');

/** The page globals the tests read (the tests are compiled without the DOM library). */
interface PageGlobals {
  notReloaded?: boolean;
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
}


let stack: Stack;
let planner: HttpPlanner;
let context: BrowserContext;
let browser: Awaited<ReturnType<typeof launchHeadlessChromium>> | undefined;
let page: Page;
let daemonOrigin: string;
/** Every request the console pages made, to prove nothing left the daemon's origin. */
const consoleRequests: string[] = [];

function watch(p: Page): Page {
  p.on('request', (r) => consoleRequests.push(r.url()));
  return p;
}

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signInLink(): Promise<string> {
  const r = await stack.daemon.cliJson(['ui', '--no-open', '--json']);
  return String(r['url']);
}

/** Open a run and dispatch the fixing step over the relay; resolves once the daemon has it. */
async function dispatchFix(title: string): Promise<{ run: Run; stepId: string }> {
  const run: Run = await planner.call('runs.open', { workspaceId: stack.workspaceId, title });
  const step: Step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'] });
  return { run, stepId: step.stepId };
}

function ledger<T>(sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(stack.daemon.home, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

describe.skipIf(SKIP !== undefined)('the operator console in headless Chromium', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack({ approval: { policy: 'always', remote: true } });
    planner = await new HttpPlanner(stack.relay.url!, stack.org.plannerToken).connect();
    daemonOrigin = new URL(stack.daemon.url!).origin;
    browser = await launchHeadlessChromium({ viewport: { width: 1280, height: 900 } });
    context = browser.context;
    page = watch(context.pages()[0] ?? (await context.newPage()));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  it('shows only the sign-in page, and asks for no data, without a session', async () => {
    const before = consoleRequests.length;
    await page.goto(`${daemonOrigin}/ui/`);
    await page.getByRole('heading', { name: 'Sluice console' }).waitFor();
    expect(await page.getByText('sluice ui', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('navigation', { name: 'Views' }).count()).toBe(0);
    expect(consoleRequests.slice(before).filter((u) => u.includes('/api/'))).toEqual([]);
    await shot('sign-in');
  });

  it('signs in with the one-time link from `sluice ui`, and takes the code out of the address bar', async () => {
    await page.goto(await signInLink());
    await page.getByRole('navigation', { name: 'Views' }).waitFor();
    await page.getByRole('heading', { name: 'Runs', exact: true }).waitFor();
    expect(page.url()).not.toContain('code=');
    const cookies = await context.cookies(daemonOrigin);
    expect(cookies.find((c) => c.name === 'sluice_console')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  let approveRun: { run: Run; stepId: string };

  it('shows a step dispatched over the relay appear and settle without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as PageGlobals).notReloaded = true));
    approveRun = await dispatchFix('fix add() from the console test');
    const row = page.locator(`tr[data-run="${approveRun.run.runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('fix add() from the console test');
    await row.getByRole('link').click();
    const stepHeading = page.locator(`[data-step="${approveRun.stepId}"] h3`);
    await stepHeading.waitFor();
    await page.locator(`[data-step="${approveRun.stepId}"] h3`, { hasText: 'awaiting approval' }).waitFor({ timeout: 30_000 });
    await page.getByText('Waiting for your approval: step 1').waitFor();
    await page.locator(`[data-step="${approveRun.stepId}"] summary`, { hasText: 'Validation test' }).click();
    expect(await page.locator(`[data-step="${approveRun.stepId}"]`).textContent()).toContain('passed');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).notReloaded)).toBe(true);
    await shot('run');
  });

  it('shows the changed lines in the diff of the attempt and of the run', async () => {
    await page.getByRole('link', { name: 'Diff of attempt 1' }).click();
    const file = page.locator('[data-file="src/math.js"]');
    await file.waitFor();
    expect((await file.locator('span.add').allTextContents()).map((l) => l.trimEnd())).toContain('+  return a + b;');
    expect((await file.locator('span.del').allTextContents()).map((l) => l.trimEnd())).toContain('-  return a - b;');
    expect(await file.locator('h2').textContent()).toContain('+1');
    await shot('diff');
    await page.goBack();
    await page.getByRole('link', { name: 'Diff of the whole run' }).click();
    await page.getByText('No changes.').waitFor();
  });

  it('approves in the page: the run branch fast-forwards and the operator is recorded as the actor', async () => {
    await page.locator('a', { hasText: /^Approvals/ }).click();
    await page.getByRole('heading', { name: /^Approvals waiting \(1\)/ }).waitFor();
    await shot('approvals');
    const attempt = (await stack.daemon.verb('steps.get', { stepId: approveRun.stepId })).attempts[0]!;
    await page.getByLabel('Reason (required to reject)').fill('looks right');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Nothing is waiting for you.').waitFor();
    const branch = approveRun.run.branch.replace(/^refs\/heads\//, '');
    expect(await git(stack.repo.path, ['rev-parse', `refs/heads/${branch}`])).toBe(attempt.commit);
    const { gates } = (await stack.daemon.verb('gates.list', { runId: approveRun.run.runId })) as { gates: Gate[] };
    const approved = gates.find((g) => g.kind === 'approval')!;
    const signIn = ledger<{ actor: string; target: string }>("SELECT actor, target FROM audit WHERE action = 'console.sign_in' AND outcome = 'ok'");
    expect(approved).toMatchObject({ status: 'approved', decidedBy: signIn[0]!.actor, reason: 'looks right' });
    const audit = ledger<{ actor: string; details: string }>("SELECT actor, details FROM audit WHERE action = 'verb.gates.approve' AND outcome = 'ok'");
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe(signIn[0]!.actor);
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ consoleSession: signIn[0]!.target });
    await page.goto(`${daemonOrigin}/ui/#/runs/${approveRun.run.runId}`);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).notReloaded)).toBe(true);
    await page.getByRole('link', { name: 'Diff of the whole run' }).click();
    await page.locator('[data-file="src/math.js"] span.add', { hasText: 'return a + b;' }).waitFor();
  });

  let rejectRun: { run: Run; stepId: string };

  it('refuses a forged POST without the CSRF secret, even from the console origin with its cookie', async () => {
    rejectRun = await dispatchFix('a change to reject');
    await page.goto(`${daemonOrigin}/ui/#/runs/${rejectRun.run.runId}`);
    await page.getByText('Waiting for your approval: step 1').waitFor({ timeout: 30_000 });
    const { gates } = (await stack.daemon.verb('gates.list', { runId: rejectRun.run.runId, status: 'pending' })) as { gates: Gate[] };
    const gateId = gates[0]!.gateId;
    const forged = await page.evaluate(async (id) => {
      const res = await fetch('/api/v1/verbs/gates.approve', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ gateId: id }) });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, gateId);
    expect(forged).toEqual({ status: 403, body: expect.objectContaining({ code: 'CONSOLE_SECRET_REQUIRED' }) });
    const after = (await stack.daemon.verb('gates.list', { runId: rejectRun.run.runId, status: 'pending' })) as { gates: Gate[] };
    expect(after.gates.map((g) => g.gateId)).toEqual([gateId]);
  });

  it('rejects with a reason: the gate records it and the run branch stays', async () => {
    const before = await git(stack.repo.path, ['rev-parse', `refs/heads/${rejectRun.run.branch.replace(/^refs\/heads\//, '')}`]);
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByText('Say why you reject it.').waitFor();
    await page.getByLabel('Reason (required to reject)').fill('not this way: keep subtraction for now');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('td.reason', { hasText: 'not this way: keep subtraction for now' }).waitFor();
    const { gates } = (await stack.daemon.verb('gates.list', { runId: rejectRun.run.runId })) as { gates: Gate[] };
    expect(gates.find((g) => g.kind === 'approval')).toMatchObject({ status: 'rejected', reason: 'not this way: keep subtraction for now' });
    expect(await git(stack.repo.path, ['rev-parse', `refs/heads/${rejectRun.run.branch.replace(/^refs\/heads\//, '')}`])).toBe(before);
  });

  it('shows the other views', async () => {
    for (const [name, heading] of [
      ['workspaces', 'Workspaces'],
      ['sessions', 'Console sessions'],
      ['audit', 'Audit'],
      ['runs', 'Runs'],
    ] as const) {
      await page.goto(`${daemonOrigin}/ui/#/${name}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      if (name === 'workspaces') {
        const connector = page.locator(`[data-connector="${stack.connector.instanceId}"]`);
        await connector.locator('.state', { hasText: /^connected$/ }).waitFor();
        expect(await connector.textContent()).toContain(stack.workspaceId);
        await page.locator(`[data-workspace="${stack.workspaceId}"] .state`, { hasText: /^shared$/ }).waitFor();
        await page.locator(`[data-workspace="${stack.workspaceId}"] td`, { hasText: 'ready' }).waitFor();
      }
      if (name === 'audit') {
        await page.getByText(/^Audit chain verified: all \d+ rows intact\.$/).waitFor();
        await page.getByLabel('Action starts with').fill('verb.gates');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.locator('table.audit code', { hasText: 'verb.gates.reject' }).waitFor();
        expect(new Set(await page.locator('table.audit code').allTextContents())).toEqual(new Set(['verb.gates.approve', 'verb.gates.reject']));
      }
      await shot(name);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${daemonOrigin}/ui/#/runs/${approveRun.run.runId}`);
    await page.getByRole('link', { name: 'Diff of the whole run' }).waitFor();
    await shot('run-phone');
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as PageGlobals).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('gives another loopback server the cookie, and that cookie alone fails against the daemon', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const other: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.end('<!doctype html><title>dev server</title><p>agent-written code runs here</p>');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as { port: number }).port;
    const visit = await context.newPage();
    try {
      await visit.goto(`http://127.0.0.1:${port}/`);
    } finally {
      await visit.close();
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
    const cookie = String(seen[0]?.cookie ?? '');
    expect(cookie).toMatch(/sluice_console=/);
    const stolen = cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('sluice_console='))!;
    const read = await fetch(`${daemonOrigin}/api/v1/console/overview`, { headers: { cookie: stolen } });
    expect(read.status).toBe(403);
    const write = await fetch(`${daemonOrigin}/api/v1/verbs/runs.abort`, {
      method: 'POST',
      headers: { cookie: stolen, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runId: approveRun.run.runId }),
    });
    expect(write.status).toBe(403);
    const guessed = await fetch(`${daemonOrigin}/api/v1/verbs/runs.abort`, {
      method: 'POST',
      headers: { cookie: stolen, origin: daemonOrigin, 'x-sluice-console-secret': 'a'.repeat(43), 'content-type': 'application/json' },
      body: JSON.stringify({ runId: approveRun.run.runId }),
    });
    expect(guessed.status).toBe(401);
    expect(((await stack.daemon.verb('runs.get', { runId: approveRun.run.runId })) as Run).state).toBe('open');
  });

  it('signs out: the page shows sign-in again and the session is refused', async () => {
    await page.goto(`${daemonOrigin}/ui/#/sessions`);
    await page.getByRole('heading', { name: 'Console sessions' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sluice console' }).waitFor();
    const sessions = (await stack.daemon.cliJson(['ui', 'sessions', '--json']))['sessions'] as { revokedAt: string | null }[];
    expect(sessions.every((s) => s.revokedAt !== null)).toBe(true);
  });

  it('loaded nothing from outside the daemon', () => {
    expect(consoleRequests.length).toBeGreaterThan(10);
    const elsewhere = consoleRequests.filter((u) => new URL(u).origin !== daemonOrigin);
    expect(elsewhere).toEqual([]);
  });
});
