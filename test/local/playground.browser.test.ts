import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { buildPlayground } from '../../scripts/build-playground';
import { type RunningChromium, chromiumBinary, launchChromium } from '../../testkit/chromium';
import { listenOnLoopback } from '../../testkit/loopback-server';
import { type SpawnedServer, spawnServer } from '../../testkit/spawn-server';

const CHROMIUM = chromiumBinary();
if (CHROMIUM === undefined) {
  console.log('skipped: playground browser test (chromium is not installed; .ci/run installs it with apt-get install -y chromium)');
}

const USER = { email: 'grace@example.com', name: 'Grace Hopper', sub: '104242424242424242424' };
const UID = `google:${USER.sub}`;
/** Playwright's waits give up first (15 s), so a stuck step fails with what the page shows, not a bare timeout. */
const STEP_TIMEOUT_MS = 30_000;

/** The decoded claims (or header) a step shows for its token. */
async function shown(page: Page, step: string, part: 'claims' | 'header' = 'claims'): Promise<Record<string, unknown>> {
  return JSON.parse(await page.locator(`[data-step="${step}"] pre.${part}`).innerText()) as Record<string, unknown>;
}

async function rawToken(page: Page, step: string): Promise<string> {
  return (await page.locator(`[data-step="${step}"] code.raw`).textContent()) ?? '';
}

/** Waits for a step to finish; a failed step fails the test with the page's own error text. */
async function finished(page: Page, step: string): Promise<void> {
  await page.locator(`[data-step="${step}"].done, .step.failed`).first().waitFor({ timeout: 15_000 });
  const failed = page.locator('.step.failed');
  if ((await failed.count()) > 0) throw new Error(`a step failed: ${await failed.first().innerText()}`);
}

(CHROMIUM ? describe : describe.skip)('the playground at / in local mode, in a real chromium', () => {
  let server: SpawnedServer;
  let browser: RunningChromium;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    // The test serves what `npm run build` builds (the server reads dist/playground/).
    await buildPlayground();
    const stateDir = path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-play-')), '.local');
    const emptyKeysDir = mkdtempSync(path.join(tmpdir(), 'firebridge-nokeys-'));
    // REQUIRE_NONCE: the page's nonce (POST /v1/nonce, into the Google ID token) is checked and consumed.
    server = await spawnServer({ LOCAL_STATE_DIR: stateDir, KEYS_DIR: emptyKeysDir, LOG_LEVEL: 'info', REQUIRE_NONCE: 'true' });
    browser = await launchChromium(CHROMIUM as string);
    // Every request of the browser context (pages, workers), not only the page's.
    browser.context.on('request', (req) => requests.push(req.url()));
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // CSP violations, as the page itself sees them (an init script runs outside the page's CSP).
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (event) => {
        console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
      });`,
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads with the CSP in force and nothing inline', async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(server.output()).toContain(`"url":"${server.url}/","msg":"local mode playground: open it in a browser"`);
    await page.getByText('Signed out').waitFor();
    await expect(page.locator('#refresh').isDisabled()).resolves.toBe(true);
  }, STEP_TIMEOUT_MS);

  it('signs in as the chosen test user and shows every step decoded', async () => {
    await page.fill('#email', USER.email);
    await page.fill('#name', USER.name);
    await page.fill('#sub', USER.sub);
    await page.click('#sign-in-button');
    await finished(page, 'me');

    await expect(page.locator('#status').innerText()).resolves.toBe(`Signed in as ${UID}`);
    const nonce = (await page.locator('[data-step="nonce"] pre').innerText()).trim();
    const google = await shown(page, 'google-id-token');
    expect(google).toMatchObject({ sub: USER.sub, email: USER.email, name: USER.name, nonce, iss: 'https://accounts.google.com' });
    expect(await shown(page, 'google-id-token', 'header')).toMatchObject({ alg: 'RS256' });

    expect((await page.locator('[data-step="custom-token"] pre.uid').innerText()).trim()).toBe(UID);
    const custom = await shown(page, 'custom-token');
    expect(custom).toMatchObject({ uid: UID, claims: { google_sub: USER.sub, email: USER.email, name: USER.name } });

    const firebase = await shown(page, 'firebase-id-token');
    expect(firebase).toMatchObject({
      sub: UID,
      aud: 'demo-firebridge',
      iss: 'https://securetoken.google.com/demo-firebridge',
      email: USER.email,
      name: USER.name,
    });
    expect(await shown(page, 'firebase-id-token', 'header')).toMatchObject({ alg: 'RS256' });

    const me = JSON.parse(await page.locator('[data-step="me"] pre.json').innerText()) as { uid: string; claims: Record<string, unknown> };
    expect(me.uid).toBe(UID);
    expect(me.claims).toMatchObject({ email: USER.email, google_sub: USER.sub, sub: UID });
  }, STEP_TIMEOUT_MS);

  it('refresh shows a new ID token, which /v1/me takes', async () => {
    const before = await rawToken(page, 'firebase-id-token');
    // An ID token is its claims signed (RS256 is deterministic) and iat counts seconds: a refresh within the second
    // of sign-in would mint the very same token. So the refresh waits for the next second (at most one).
    const { iat } = (await shown(page, 'firebase-id-token')) as { iat: number };
    const wait = (iat + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 20));
    await page.click('#refresh');
    await finished(page, 'me-refreshed');
    const after = await rawToken(page, 'refreshed-id-token');
    expect(after).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(after).not.toBe(before);
    expect((await page.locator('[data-step="refreshed-id-token"] pre.differs').innerText()).trim()).toBe('true');
    const refreshed = await shown(page, 'refreshed-id-token');
    expect(refreshed).toMatchObject({ sub: UID, aud: 'demo-firebridge', email: USER.email });
    expect(refreshed.iat).toBeGreaterThan(iat);
    const me = JSON.parse(await page.locator('[data-step="me-refreshed"] pre.json').innerText()) as { uid: string };
    expect(me.uid).toBe(UID);
  }, STEP_TIMEOUT_MS);

  it('a reload keeps the session; sign out ends it', async () => {
    await page.reload();
    await page.getByText(`Signed in as ${UID}`).waitFor();
    await page.click('#sign-out');
    await page.getByText('Signed out').waitFor();
    await expect(page.locator('#steps > li').count()).resolves.toBe(0);
    await expect(page.locator('#refresh').isDisabled()).resolves.toBe(true);
  }, STEP_TIMEOUT_MS);

  it('no request left 127.0.0.1, and the page logged no error or CSP violation', () => {
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
    expect(requests).toContain(`${server.url}/playground/playground.js`);
    expect(problems).toEqual([]);
  });

  it('the same page served by a dev server on another loopback origin signs in through CORS', async () => {
    // What a web app on `npm run dev` does: its page on http://127.0.0.1:<another port>, the bridge (local mode,
    // which allows loopback origins by default) on its own. The page names the bridge in a meta tag.
    const built = path.resolve(__dirname, '../../dist/playground');
    const html = readFileSync(path.join(built, 'index.html'), 'utf8').replace(
      '<meta charset="utf-8">',
      `<meta charset="utf-8">\n  <meta name="firebridge-url" content="${server.url}">`,
    );
    const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css' };
    const devServer = await listenOnLoopback((req, res) => {
      const name = req.url === '/' ? undefined : /^\/playground\/(playground\.(?:js|css))$/.exec(req.url ?? '')?.[1];
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else if (name) res.writeHead(200, { 'content-type': types[path.extname(name)] as string }).end(readFileSync(path.join(built, name)));
      else res.writeHead(404).end();
    });
    const devPage = await browser.context.newPage();
    const devRequests: string[] = [];
    devPage.on('request', (req) => devRequests.push(req.url()));
    devPage.on('console', (message) => {
      if (message.type() === 'error') problems.push(`dev page console error: ${message.text()}`);
    });
    try {
      await devPage.goto(`${devServer.url}/`);
      await devPage.getByText('Signed out').waitFor();
      await devPage.fill('#email', 'linus@example.com');
      await devPage.fill('#sub', '');
      await devPage.click('#sign-in-button');
      await finished(devPage, 'me');
      const me = JSON.parse(await devPage.locator('[data-step="me"] pre.json').innerText()) as { claims: Record<string, unknown> };
      expect(me.claims).toMatchObject({ email: 'linus@example.com', aud: 'demo-firebridge' });
      // The calls went cross-origin to the bridge (preflights included), and nowhere else.
      expect(devRequests.some((url) => url.startsWith(`${server.url}/identitytoolkit.googleapis.com/`))).toBe(true);
      expect(devRequests.filter((url) => !url.startsWith(`${server.url}/`) && !url.startsWith(`${devServer.url}/`))).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await devPage.close();
      await devServer.close();
    }
  }, STEP_TIMEOUT_MS);

  it('a refusal shows on the failed step and in the status line', async () => {
    // A page of its own: the refused request's 400 is a console error there by design.
    const refusedPage = await browser.context.newPage();
    try {
      await refusedPage.goto(`${server.url}/`);
      await refusedPage.getByText('Signed out').waitFor();
      await refusedPage.fill('#sub', 'not printable ascii');
      await refusedPage.click('#sign-in-button');
      await refusedPage.locator('[data-step="google-id-token"].failed').waitFor();
      await expect(refusedPage.locator('[data-step="google-id-token"] .error').innerText()).resolves.toMatch(/400.*"sub" must be printable ASCII/);
      await expect(refusedPage.locator('#status').innerText()).resolves.toMatch(/^Failed: /);
      await expect(refusedPage.locator('[data-step="custom-token"]').count()).resolves.toBe(0);
      await expect(refusedPage.locator('#sign-in-button').isDisabled()).resolves.toBe(false);
    } finally {
      await refusedPage.close();
    }
  }, STEP_TIMEOUT_MS);

  it('no token reached the server log', () => {
    expect(server.output()).not.toMatch(/eyJ[\w-]{20,}\.eyJ/);
  });
});
