import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AUTHZ_RESPONSE_HEADERS } from '../../src/http/routes/authz';

// js-yaml 3 comes with jest (no YAML parser is a dependency of firebridge); safeLoad builds plain data only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoad(text: string): unknown };

const EXAMPLES = path.resolve(__dirname, '../../examples');
const read = (file: string) => readFileSync(path.join(EXAMPLES, file), 'utf8');
const HEADERS = [...AUTHZ_RESPONSE_HEADERS].sort();
const lower = (names: string[]) => names.map((name) => name.toLowerCase()).sort();

type Node = Record<string, unknown>;

/** Every object in a parsed document, depth first. */
function objects(value: unknown, found: Node[] = []): Node[] {
  if (Array.isArray(value)) for (const item of value) objects(item, found);
  else if (typeof value === 'object' && value !== null) {
    found.push(value as Node);
    for (const child of Object.values(value)) objects(child, found);
  }
  return found;
}

describe('forward-auth examples: the configs a user copies name /v1/authz and every X-Auth-* header', () => {
  it('nginx: every location that reaches the app either asks firebridge or strips all X-Auth-* headers', () => {
    const site = read('nginx/firebridge.conf');
    const user = read('nginx/snippets/firebridge-user.conf');
    const authz = read('nginx/snippets/firebridge-authz.conf');
    // The snippet the protected locations include copies each header from firebridge's answer.
    for (const name of HEADERS) {
      const variable = `$upstream_http_${name.toLowerCase().replace(/-/g, '_')}`;
      expect(user).toMatch(new RegExp(`auth_request_set \\$(\\w+) \\${variable};[\\s\\S]*proxy_set_header ${name} \\$\\1;`));
    }
    expect(authz).toMatch(/proxy_pass_request_body off;/);
    expect(authz).toMatch(/proxy_set_header X-Original-URI \$request_uri;/);
    const locations = [...site.matchAll(/location ([^{]+)\{([^}]*)\}/g)].map((match) => ({ name: (match[1] ?? '').trim(), body: match[2] ?? '' }));
    expect(locations.length).toBeGreaterThanOrEqual(4);
    for (const { name, body } of locations) {
      if (/proxy_pass http:\/\/firebridge\/v1\/authz/.test(body)) {
        expect([name, body]).toEqual([name, expect.stringContaining('internal;')]);
      } else if (/proxy_pass http:\/\/app;/.test(body)) {
        const guarded = /auth_request \/_firebridge\/[\w-]+;/.test(body) && body.includes('include snippets/firebridge-user.conf;');
        const stripped = HEADERS.every((header) => body.includes(`proxy_set_header ${header} "";`));
        expect([name, guarded || stripped]).toEqual([name, true]);
      }
    }
  });

  it('Traefik: YAML; every ForwardAuth names /v1/authz and copies the five headers; the public router strips them', () => {
    const doc = yaml.safeLoad(read('traefik/dynamic.yml')) as { http: { middlewares: Record<string, Node>; routers: Record<string, Node> } };
    const forwardAuths = Object.values(doc.http.middlewares).filter((middleware) => 'forwardAuth' in middleware);
    expect(forwardAuths.length).toBeGreaterThanOrEqual(2);
    for (const middleware of forwardAuths) {
      const config = middleware.forwardAuth as { address: string; authResponseHeaders: string[]; trustForwardHeader?: boolean };
      expect(new URL(config.address).pathname).toBe('/v1/authz');
      expect([...config.authResponseHeaders].sort()).toEqual(HEADERS);
      expect(config.trustForwardHeader).not.toBe(true);
    }
    for (const [name, router] of Object.entries(doc.http.routers)) {
      const middlewares = (router.middlewares as string[] | undefined) ?? [];
      const checks = middlewares.some((used) => 'forwardAuth' in (doc.http.middlewares[used] ?? {}));
      const strips = middlewares.some((used) => {
        const custom = ((doc.http.middlewares[used]?.headers as Node | undefined)?.customRequestHeaders ?? {}) as Record<string, string>;
        return HEADERS.every((header) => custom[header] === '');
      });
      expect([name, checks || strips]).toEqual([name, true]);
    }
  });

  it('Envoy: YAML; ext_authz under /v1/authz, fails closed, passes the five headers up and WWW-Authenticate back; client headers removed first', () => {
    const doc = yaml.safeLoad(read('envoy/envoy.yaml'));
    const filters = objects(doc).find((node) => Array.isArray(node.http_filters))?.http_filters as Array<{ name: string; typed_config: Node }>;
    const names = filters.map((filter) => filter.name);
    expect(names.indexOf('envoy.filters.http.header_mutation')).toBeLessThan(names.indexOf('envoy.filters.http.ext_authz'));
    expect(names[names.length - 1]).toBe('envoy.filters.http.router');
    const mutation = filters.find((filter) => filter.name === 'envoy.filters.http.header_mutation')?.typed_config as {
      mutations: { request_mutations: Array<{ remove: string }> };
    };
    expect(mutation.mutations.request_mutations.map((m) => m.remove).sort()).toEqual(lower(HEADERS));
    const extAuthz = filters.find((filter) => filter.name === 'envoy.filters.http.ext_authz')?.typed_config as {
      failure_mode_allow: boolean;
      http_service: {
        path_prefix: string;
        authorization_request: { allowed_headers: { patterns: Array<{ exact: string }> } };
        authorization_response: { allowed_upstream_headers: { patterns: Array<{ exact: string }> }; allowed_client_headers: { patterns: Array<{ exact: string }> } };
      };
    };
    expect(extAuthz.failure_mode_allow).toBe(false);
    expect(extAuthz.http_service.path_prefix).toBe('/v1/authz');
    expect(extAuthz.http_service.authorization_request.allowed_headers.patterns.map((p) => p.exact)).toEqual(expect.arrayContaining(['authorization', 'cookie']));
    expect(extAuthz.http_service.authorization_response.allowed_upstream_headers.patterns.map((p) => p.exact).sort()).toEqual(lower(HEADERS));
    expect(extAuthz.http_service.authorization_response.allowed_client_headers.patterns.map((p) => p.exact)).toContain('www-authenticate');
  });

  it('Caddy: every forward_auth names /v1/authz and copies the five headers; every route strips the client\'s first', () => {
    const caddyfile = read('caddy/Caddyfile');
    const snippet = /\(strip_firebridge_headers\) \{([^}]*)\}/.exec(caddyfile)?.[1] ?? '';
    for (const header of HEADERS) expect(snippet).toContain(`request_header -${header}\n`);
    const forwardAuths = [...caddyfile.matchAll(/^\t+forward_auth [^{\n]+\{([^}]*)\}/gm)].map((match) => match[1] ?? '');
    expect(forwardAuths.length).toBeGreaterThanOrEqual(2);
    for (const block of forwardAuths) {
      // Always with a query (even an empty one): a Caddy rewrite without one keeps the client's query.
      expect(block).toMatch(/\n\s*uri \/v1\/authz\?\S*\n/);
      const copied = /copy_headers ([^\n]+)/.exec(block)?.[1]?.trim().split(/\s+/) ?? [];
      expect(copied.sort()).toEqual(HEADERS);
    }
    const routes = [...caddyfile.matchAll(/route \{([\s\S]*?)\n\t\t\}/g)].map((match) => match[1] ?? '');
    expect(routes.length).toBe(3);
    for (const route of routes) {
      const body = route.trim();
      expect(body.startsWith('import strip_firebridge_headers')).toBe(true);
      expect(body).toMatch(/reverse_proxy /);
    }
  });
});
