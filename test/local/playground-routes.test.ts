import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { buildPlayground } from '../../scripts/build-playground';
import { createDependencies } from '../../src/compose/dependencies';
import { loadConfig } from '../../src/config';
import { createApp } from '../../src/http/app';
import { PLAYGROUND_DIR, playgroundRoutes } from '../../src/local/playground-routes';
import { createLogger } from '../../src/logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { LogCapture, bridgeFor } from '../../testkit/harness';

function localApp() {
  const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-play-'));
  const config = loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys') }, tmp);
  const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock: Date.now, fetch: globalThis.fetch });
  return createApp(config, deps);
}

describe('the playground page in local mode (GET /)', () => {
  beforeAll(async () => {
    await buildPlayground();
  });

  it('serves the built page, its script and its style, under the app-wide CSP', async () => {
    const app = localApp();
    const page = await request(app).get('/').expect(200).expect('content-type', /^text\/html/);
    expect(page.text).toBe(readFileSync(path.join(PLAYGROUND_DIR, 'index.html'), 'utf8'));
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).not.toContain('unsafe-eval');

    const script = await request(app).get('/playground/playground.js').expect(200).expect('content-type', /^text\/javascript/);
    expect(script.text).toBe(readFileSync(path.join(PLAYGROUND_DIR, 'playground.js'), 'utf8'));
    // The Firebase JS SDK is in the bundle, not fetched from a CDN.
    expect(script.text).toContain('signInWithCustomToken');
    await request(app).get('/playground/playground.css').expect(200).expect('content-type', /^text\/css/);
    await request(app).get('/playground/index.html').expect(404);
    await request(app).get('/playground/../package.json').expect(404);
    await request(app).post('/').expect(405);
  });

  it('the page has no inline script and loads nothing from another origin', () => {
    const html = readFileSync(path.join(PLAYGROUND_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/playground\/playground\.js"/);
      expect(body).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('says how to build it when the bundle is missing', async () => {
    const app = express().use(playgroundRoutes(mkdtempSync(path.join(tmpdir(), 'firebridge-unbuilt-'))));
    const res = await request(app).get('/').expect(503).expect('content-type', /^text\/html/);
    expect(res.text).toContain('npm run build');
    const script = await request(app).get('/playground/playground.js').expect(404);
    expect(script.body).toMatchObject({ error: 'not_found', error_description: expect.stringContaining('npm run build') });
  });
});

describe('configured mode has no playground', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('GET / and the assets are 404, as before', async () => {
    const { app } = bridgeFor(fake);
    await request(app).get('/').expect(404, { error: 'not_found', error_description: 'no such route' });
    await request(app).get('/playground/playground.js').expect(404);
  });
});
