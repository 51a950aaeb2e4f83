/**
 * The console in a real browser (Debian's Chromium, driven by playwright-core) against a real
 * issuer and verifier on a real nats-server: an admin signs in, creates a user and a key with
 * scopes, limits and credits, the key is used at the verifier and its use shows in the chart and
 * its credits, the admin edits and revokes it and the verifier refuses it; an admin rolls a key
 * (the new one shown once, the old one working for the grace); a user sees only their own keys. Not one Content-Security-Policy violation
 * on any page. With AKM_CONSOLE_SCREENSHOTS=<dir> it saves a screenshot of each page there (the
 * README's come from `AKM_CONSOLE_SCREENSHOTS=docs/console`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { RunningIssuer } from '@akm/issuer';
import type { VerifierRuntime } from '@akm/verifier/service';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { waitFor } from '../support/processes.js';
import { useWiredVerifiers } from '../support/wired-verifier.js';

const ADMIN_PASSWORD = 'console admin password';
const BOB_PASSWORD = 'bob has a long password';
const shots = process.env.AKM_CONSOLE_SCREENSHOTS;

describe('e2e: the console in a browser', function () {
  this.timeout(120_000);
  let issuer: RunningIssuer;
  let verifier: VerifierRuntime;
  let browser: TestBrowser;
  const violations: string[] = [];
  /** Everything the pages wrote to the browser's console. */
  const logged: string[] = [];

  // Registered before the suite's own after-hook: the browser closes first, as it started last.
  after(async () => browser?.close());
  const e2e = useWiredVerifiers({ name: 'console-verifier', usageIntervalMs: 200, issuer: { adminPassword: ADMIN_PASSWORD } });
  before(async () => {
    ({ issuer, verifier } = e2e);
    browser = await launchBrowser({ origin: issuer.url });
    if (shots) mkdirSync(shots, { recursive: true });
  });

  async function open(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('console', (m) => {
      logged.push(m.text());
      if (/Content Security Policy|Trusted Type|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('pageerror', (err) => violations.push(`page error: ${err.message}`));
    await page.goto(`${issuer.url}/console/`);
    return page;
  }
  async function signIn(page: Page, username: string, password: string) {
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }
  async function shot(page: Page, name: string) {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }
  const price = (key: string) => fetch(`${verifier.service.url}/price?symbol=BTC`, { headers: { authorization: `Bearer ${key}` } });
  const adminApi = async (path: string, body?: unknown) => {
    const token = await issuer.adminToken();
    const res = await fetch(`${issuer.url}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as { id: string; key: string };
  };
  /** A key's record as the API answers it. */
  const keyRecord = async (id: string) =>
    (await adminApi(`/admin/keys/${id}`)) as unknown as {
      id: string;
      scopes: string[];
      limits: Array<{ name: string; limit: number; windowSeconds: number }>;
      credits: { granted: number } | null;
      status: string;
      revokeAt: string | null;
      rolledTo: string | null;
      rolledFrom: string | null;
    };
  /** `iso` as the console writes a date, in the page's locale and time zone. */
  const shown = (page: Page, iso: string) => page.evaluate((d) => new Date(d).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }), iso);

  it('an admin signs in, creates a user and a key, sees its use in the chart, edits and revokes it, and the verifier refuses it', async () => {
    const page = await open();
    await page.getByRole('heading', { name: 'akm console' }).waitFor();
    await shot(page, 'sign-in');
    await signIn(page, 'admin', ADMIN_PASSWORD);

    // Users: create bob.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('User name').fill('bob');
    await page.getByLabel('Password').fill(BOB_PASSWORD);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'bob', exact: true }).waitFor();
    await shot(page, 'users');

    // A few keys of other owners, so that lists have something in them.
    const alice = await adminApi('/admin/keys', { sub: 'alice', name: 'reporting', rateLimit: 600 });
    await adminApi('/admin/keys', { sub: 'alice', name: 'billing', rateLimit: 120 });
    for (let i = 0; i < 7; i++) expect((await price(alice.key)).status).to.equal(200);

    // A key for bob, with scopes, two limits and credits: a bad scope is refused in the API's
    // words, then the key is shown once, copied with the button.
    await page.getByRole('link', { name: 'Keys', exact: true }).click();
    await page.getByRole('link', { name: 'New key' }).click();
    await page.getByLabel('Owner').fill('bob');
    await page.getByLabel('Scopes').fill('prices:read !orders');
    await page.getByLabel('Limit 1 requests').fill('3');
    await page.getByRole('button', { name: 'Add a limit' }).click();
    await page.getByLabel('Limit 2 name').fill('day');
    await page.getByLabel('Limit 2 requests').fill('500');
    await page.getByLabel('Limit 2 window', { exact: true }).fill('1');
    await page.getByLabel('Limit 2 window unit').selectOption('days');
    await page.getByLabel(/^Credits/).fill('10');
    await page.getByLabel('Name', { exact: true }).fill('ci');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await page.getByText('a scope is 1-64 letters', { exact: false }).waitFor();
    expect(await page.getByRole('alert').textContent()).to.include('(validation_failed)');
    await shot(page, 'key-new');
    await page.getByLabel('Scopes').fill('prices:read orders:write');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const secret = page.getByLabel('the new key');
    await secret.waitFor();
    const key = await secret.inputValue();
    expect(key.split('.')).to.have.length(3);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).to.equal(key);
    await shot(page, 'key-created');
    const keyId = (await page.locator('.created a.mono').textContent())!.trim();
    const issued = await keyRecord(keyId);
    expect(issued.scopes, JSON.stringify(issued)).to.deep.equal(['prices:read', 'orders:write']);
    expect(issued.limits, JSON.stringify(issued)).to.deep.equal([
      { name: 'default', limit: 3, windowSeconds: 60 },
      { name: 'day', limit: 500, windowSeconds: 86_400 },
    ]);
    expect(issued.credits?.granted, JSON.stringify(issued)).to.equal(10);

    // Use it at the verifier: 3 served, 2 over its limit of 3 per minute.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await price(key)).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429, 429]);

    // Its page follows the verifier's reports: the chart shows the use.
    await page.locator('.created a.mono').click();
    const served = page.locator('table.totals td[data-outcome="served"]');
    await waitFor(async () => (await served.textContent()) === '3' && (await page.locator('table.totals td[data-outcome="rate_limited"]').textContent()) === '2', 15_000, 200);
    const bars = page.locator('svg.chart rect[data-outcome="served"]');
    expect(await bars.count()).to.be.greaterThan(0);
    expect(await bars.first().getAttribute('data-count')).to.equal('3');
    expect(await page.locator('svg.chart rect[data-outcome="rate_limited"]').first().getAttribute('data-count')).to.equal('2');
    expect(await page.locator('[data-field="owner"]').textContent()).to.equal('bob');
    // Its scopes, each limit and its credits: 10 granted, 3 served.
    expect(await page.locator('[data-field="scopes"] code').allTextContents()).to.deep.equal(['prices:read', 'orders:write']);
    expect(await page.locator('[data-field="rate limits"] li').allTextContents()).to.deep.equal(['default: 3 per minute', 'day: 500 per day']);
    expect(await page.locator('[data-field="credits"]').textContent()).to.match(/^10 granted /);
    await waitFor(async () => (await page.locator('[data-credits-left]').textContent())!.startsWith('about 7 left'), 15_000, 200);
    await shot(page, 'key');

    // Edit its per-minute limit and its expiry: the other limit stays.
    await page.getByLabel('Limit 1 requests').fill('10');
    const expiry = new Date(Date.now() + 10 * 86_400_000);
    const local = new Date(expiry.getTime() - expiry.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Expires').fill(local);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved: every verifier applies it at once.').waitFor();
    await waitFor(async () => (await page.locator('[data-limit="default"]').textContent()) === 'default: 10 per minute', 5000, 50);
    expect((await keyRecord(keyId)).limits.map((l) => `${l.name} ${l.limit}`)).to.deep.equal(['default 10', 'day 500']);
    await page.getByRole('cell', { name: 'key.updated' }).waitFor();

    // Disable, then enable.
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Disabled.').waitFor();
    await waitFor(async () => (await price(key)).status === 401, 5000, 50);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Enabled.').waitFor();
    await waitFor(async () => (await price(key)).status === 200, 5000, 50);

    // Revoke, with a confirmation; cancelling first changes nothing.
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('[data-field="status"]').textContent()).to.equal('active');
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('This key is revoked for good.').waitFor();
    await waitFor(async () => (await page.locator('[data-field="status"]').textContent()) === 'revoked', 5000, 50);
    await waitFor(async () => {
      const res = await price(key);
      return res.status === 401 && ((await res.json()) as { code: string }).code === 'key_revoked';
    }, 5000, 50);
    const types = await page.locator('.events tbody tr td:nth-child(2)').allTextContents();
    expect(types.slice(0, 4)).to.deep.equal(['key.revoked', 'key.enabled', 'key.disabled', 'key.updated']);

    // The list, filtered by owner, and the busiest keys.
    await page.getByRole('link', { name: '← All keys' }).click();
    // The key page's events table is still on screen until the list replaces it: wait for the
    // list's own heading, then for its rows (they arrive with the list's request).
    await page.getByRole('heading', { name: 'Keys', exact: true }).waitFor();
    await waitFor(async () => (await page.locator('table tbody tr').count()) === 3, 5000, 50);
    await shot(page, 'keys');
    await page.getByLabel('Owner').fill('alice');
    await page.getByRole('button', { name: 'Filter' }).click();
    await waitFor(async () => (await page.locator('table tbody tr').count()) === 2, 5000, 50);
    await page.getByRole('link', { name: 'Busiest keys' }).click();
    // The keys list shown a moment ago also has two rows: count only once this page is up.
    await page.getByRole('heading', { name: 'Busiest keys' }).waitFor();
    await waitFor(async () => (await page.locator('table tbody tr').count()) === 2, 15_000, 200);
    expect(await page.locator('table tbody tr').first().locator('td').nth(4).textContent()).to.equal('7');
    expect(await page.locator('table tbody tr a.mono').first().getAttribute('title')).to.equal(alice.id);
    await shot(page, 'busiest');
    expect(keyId).to.have.length(36);
    await page.close();
  });

  it('an admin rolls a key: the new key is shown once and verifies, the old one works until the grace ends', async () => {
    const old = await adminApi('/admin/keys', { sub: 'alice', name: 'to-roll', scopes: ['prices:read'] });
    const page = await open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${issuer.url}/console/#/keys/${old.id}`);

    // A grace the API refuses is shown in its words, and nothing is rolled.
    await page.getByRole('button', { name: 'Roll' }).click();
    await page.getByLabel('Grace period (seconds)').fill('99999999');
    // Enter in the field confirms, like the Roll button (it used to press Cancel, the first button).
    await page.getByLabel('Grace period (seconds)').press('Enter');
    await page.getByText('graceSeconds: must be at most 604800 seconds', { exact: false }).waitFor();
    expect((await keyRecord(old.id)).rolledTo).to.equal(null);

    await page.getByRole('button', { name: 'Roll' }).click();
    await page.getByLabel('Grace period (seconds)').fill('120');
    const asked = Date.now();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll' }).click();
    const secret = page.getByLabel('the new key');
    await secret.waitFor();
    const key = await secret.inputValue();
    await shot(page, 'key-rolled');

    // Through the API: a new key that replaces the old, and the old one's end moved to the grace.
    const before = await keyRecord(old.id);
    expect(before.rolledTo, JSON.stringify(before)).to.be.a('string');
    const rolled = await keyRecord(before.rolledTo!);
    expect(rolled.rolledFrom, JSON.stringify(rolled)).to.equal(old.id);
    expect(rolled.status).to.equal('active');
    const ends = Date.parse(before.revokeAt!);
    expect(ends, JSON.stringify(before)).to.be.within(asked + 115_000, Date.now() + 121_000);
    // The page says when: on the card and in the old key's facts.
    const when = await shown(page, before.revokeAt!);
    expect(await page.locator('[data-old-stops]').textContent()).to.equal(when);
    await waitFor(async () => (await page.locator('[data-field="stops working"]').textContent()) === when, 5000, 50);
    expect(await page.locator('[data-field="rolled to"] a').getAttribute('title')).to.equal(rolled.id);
    expect(await page.getByRole('button', { name: 'Roll' }).count(), 'a rolled key rolls no more').to.equal(0);

    // The new key verifies, and the old one still does for the grace.
    await waitFor(async () => (await price(key)).status === 200, 5000, 50);
    expect((await price(old.key)).status).to.equal(200);

    // Shown this once: not kept anywhere the page can find it again, nor logged.
    await page.reload();
    await page.locator('[data-field="owner"]').waitFor();
    expect(await page.content()).not.to.include(key);
    expect(page.url()).not.to.include(key);
    const stored = (await page.evaluate('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])')) as string;
    expect(stored).not.to.include(key);
    expect(logged.filter((line) => line.includes(key))).to.deep.equal([]);
    await page.close();
  });

  it("a user sees and manages only their own keys, and cannot open another user's", async () => {
    const mine = await adminApi('/admin/keys', { sub: 'bob', name: 'deploy' });
    const theirs = await adminApi('/admin/keys', { sub: 'alice', name: 'secret-project' });
    const page = await open();
    await signIn(page, 'bob', BOB_PASSWORD);
    await page.getByRole('heading', { name: 'My keys' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    const listed = await page.locator('table tbody tr a.mono').evaluateAll((links) => links.map((a) => a.getAttribute('title')));
    expect(listed).to.include(mine.id);
    expect(listed).not.to.include(theirs.id);
    expect(await page.content()).not.to.include('secret-project');
    expect(await page.getByRole('link', { name: 'Users' }).count(), 'no user management for a user').to.equal(0);
    await shot(page, 'my-keys');

    await page.goto(`${issuer.url}/console/#/keys/${theirs.id}`);
    await page.getByText(`you have no key ${theirs.id} (not_found)`).waitFor();
    expect(await page.locator('[data-field="owner"]').count()).to.equal(0);
    expect(await page.content()).not.to.include('secret-project');

    // Their own key: rolling it goes by their key policy (bob has none, and is told so).
    await page.goto(`${issuer.url}/console/#/keys/${mine.id}`);
    await page.getByRole('button', { name: 'Roll' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll' }).click();
    await page.getByText('you have no key policy: an admin rolls your keys (policy_exceeded)').waitFor();
    expect((await keyRecord(mine.id)).rolledTo).to.equal(null);

    // Disable it, with a confirmation.
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Disabled.').waitFor();
    // The message shows before the key's page is drawn again with its new status.
    await waitFor(async () => (await page.locator('[data-field="status"]').textContent()) === 'disabled', 5000, 50);

    // Signing out ends the sign-in token at the issuer, not only in this tab.
    const token = (await page.evaluate('JSON.parse(sessionStorage.getItem("akm.session") ?? "{}").token')) as string | undefined;
    expect(token, 'the tab\'s sign-in').to.be.a('string');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const reused = await fetch(`${issuer.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(reused.status, 'the token after signing out').to.equal(401);
    await page.close();
  });

  it('the users page pages through every user with Next and Previous', async () => {
    const names = Array.from({ length: 21 }, (_, i) => `zz-user-${String(i).padStart(2, '0')}`);
    for (const username of names) await adminApi('/admin/users', { username, password: BOB_PASSWORD });
    const page = await open();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByRole('link', { name: 'Users' }).click();
    const [first, last] = [names[0]!, names[names.length - 1]!];
    await page.getByText(first, { exact: true }).waitFor();
    expect(await page.getByText(last, { exact: true }).count(), 'not on the first page').to.equal(0);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText(last, { exact: true }).waitFor();
    expect(await page.getByText(first, { exact: true }).count(), 'not on the second page').to.equal(0);
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText(first, { exact: true }).waitFor();
    await page.close();
  });

  it('no page broke the Content-Security-Policy', () => {
    expect(violations).to.deep.equal([]);
  });
});
