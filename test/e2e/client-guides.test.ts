import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from '../../src/http/openapi';

/**
 * The client guides (docs/clients/*.md) call the bridge by path: every path they name is a route of the OpenAPI
 * document, so a renamed or removed route cannot leave a guide calling nothing.
 */
const DIR = path.resolve(__dirname, '../../docs/clients');
const PLACEHOLDERS = new Set(['/v1/your-route']);

function bridgePaths(text: string): string[] {
  // `/v1/...` and `$BRIDGE/v1/...`, not a file path of this repository (src/local/..., test/local/...), and
  // the iOS guide's relative `"v1/..."` (appendingPathComponent).
  const absolute = [...text.matchAll(/(?<!src|test)\/((?:v1|local|oauth|identitytoolkit\.googleapis\.com|securetoken\.googleapis\.com)\/[\w/:.-]*\w)/g)].map((m) => `/${m[1]}`);
  const relative = [...text.matchAll(/"((?:v1|local)\/[\w/-]*\w)"/g)].map((m) => `/${m[1]}`);
  return [...absolute, ...relative].filter((p) => !PLACEHOLDERS.has(p) && !/\.(ts|md|js)$/.test(p));
}

describe('docs/clients: every bridge path a guide calls is a documented route', () => {
  const documented = new Set(Object.keys(openApiDocument().paths));
  const guides = readdirSync(DIR).filter((name) => name.endsWith('.md'));

  it('has the Android, iOS and web guides', () => {
    expect(guides.sort()).toEqual(['android.md', 'ios.md', 'web.md']);
  });

  it.each(guides)('%s', (guide) => {
    const paths = bridgePaths(readFileSync(path.join(DIR, guide), 'utf8'));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !documented.has(p))).toEqual([]);
  });
});
