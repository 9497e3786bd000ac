import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import { methodNotAllowed, strictRouter } from '../http/routing';

/** The page: GET / in local mode (no such route in configured mode). */
export const PLAYGROUND_PATH = '/';
/**
 * Where `npm run build` (scripts/build-playground.ts) puts the bundle: <package>/dist/playground, found from
 * src/local/ (running with tsx) and from dist/local/ (the build) alike.
 */
export const PLAYGROUND_DIR = path.resolve(__dirname, '..', '..', 'dist', 'playground');

/** The built files the page loads, by URL path; nothing else under the folder is served. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/playground/playground.js': { file: 'playground.js', type: 'text/javascript; charset=utf-8' },
  '/playground/playground.css': { file: 'playground.css', type: 'text/css; charset=utf-8' },
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>firebridge playground: not built</title></head>
<body>
<h1>The playground is not built</h1>
<p>It is bundled from <code>src/local/playground/</code> into <code>dist/playground/</code> by
<code>npm run build</code> (or just the page: <code>npm run build:playground</code>). Run one, then reload.
<code>npm start</code> builds it too.</p>
</body></html>
`;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * The playground's page and its two assets, read from the built folder on each request (small files, local mode
 * only; a rebuild shows on reload). Helmet's headers (CSP `script-src 'self'`) apply as to every route: the page
 * has no inline script.
 */
export function playgroundRoutes(dir: string = PLAYGROUND_DIR): Router {
  const router = strictRouter();
  router.get(PLAYGROUND_PATH, async (_req: Request, res: Response) => {
    try {
      const html = await readFile(path.join(dir, 'index.html'));
      res.type('text/html; charset=utf-8').send(html);
    } catch (err) {
      if (!isMissing(err)) throw err;
      res.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
  });
  for (const [urlPath, asset] of Object.entries(ASSETS)) {
    router.get(urlPath, async (_req: Request, res: Response) => {
      try {
        const body = await readFile(path.join(dir, asset.file));
        res.type(asset.type).send(body);
      } catch (err) {
        if (!isMissing(err)) throw err;
        res.status(404).json({ error: 'not_found', error_description: 'the playground is not built: run npm run build' });
      }
    });
    router.all(urlPath, methodNotAllowed('GET'));
  }
  router.all(PLAYGROUND_PATH, methodNotAllowed('GET'));
  return router;
}
