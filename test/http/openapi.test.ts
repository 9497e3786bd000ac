import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import express, { type Express } from 'express';
import request from 'supertest';
import { createDependencies } from '../../src/compose/dependencies';
import { loadConfig } from '../../src/config';
import * as errors from '../../src/errors';
import { createApp } from '../../src/http/app';
import { ERROR_VALUES, type OperationObject, openApiDocument } from '../../src/http/openapi';
import { createLogger } from '../../src/logger';
import { FakeGoogle } from '../../testkit/fake-google';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { bridgeFor } from '../../testkit/harness';
import { bridgeFetch } from '../../testkit/openapi-fetch';
import { matchPath, responseProblems } from '../../testkit/openapi-validator';
import { RecordingPush } from '../../testkit/recording-push';
import { vaultEnv, vaultKeyFile } from '../../testkit/vault';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * A minimal structural schema of an OpenAPI 3.1 document (no official one ships in node_modules): the fields this
 * document uses, each where the specification puts it, nothing unknown at the levels that matter.
 */
const OPENAPI_31_STRUCTURE = {
  $defs: {
    header: {
      type: 'object',
      required: ['schema'],
      properties: { description: { type: 'string' }, required: { type: 'boolean' }, schema: { type: 'object' } },
      additionalProperties: false,
    },
    response: {
      type: 'object',
      required: ['description'],
      properties: {
        description: { type: 'string', minLength: 1 },
        headers: { type: 'object', additionalProperties: { $ref: '#/$defs/header' } },
        content: { type: 'object', additionalProperties: { $ref: '#/$defs/mediaType' }, propertyNames: { pattern: '^[a-z]+/[a-z0-9.+-]+$' } },
      },
      additionalProperties: false,
    },
    mediaType: { type: 'object', required: ['schema'], properties: { schema: { type: 'object' } }, additionalProperties: false },
    parameter: {
      type: 'object',
      required: ['name', 'in', 'schema'],
      properties: {
        name: { type: 'string' },
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        description: { type: 'string' },
        required: { type: 'boolean' },
        schema: { type: 'object' },
      },
      patternProperties: { '^x-': {} },
      additionalProperties: false,
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
    operation: {
      type: 'object',
      required: ['responses', 'operationId'],
      properties: {
        operationId: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$' },
        summary: { type: 'string' },
        description: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        parameters: { type: 'array', items: { $ref: '#/$defs/parameter' } },
        requestBody: {
          type: 'object',
          required: ['content'],
          properties: {
            required: { type: 'boolean' },
            description: { type: 'string' },
            content: { type: 'object', minProperties: 1, additionalProperties: { $ref: '#/$defs/mediaType' } },
          },
          additionalProperties: false,
        },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5][0-9]{2}|default)$' },
          additionalProperties: { $ref: '#/$defs/response' },
        },
        security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array' } } },
      },
      additionalProperties: false,
    },
  },
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    jsonSchemaDialect: { type: 'string', format: 'uri' },
    info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
    tags: { type: 'array', items: { type: 'object', required: ['name'] } },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        properties: Object.fromEntries([
          ...METHODS.map((m) => [m, { $ref: '#/$defs/operation' }]),
          ['summary', { type: 'string' }],
          ['description', { type: 'string' }],
          // A specification extension (OpenAPI 3.1 §4.9): the setting an optional group's path exists under.
          ['x-mounted-only-when', { type: 'string', minLength: 1 }],
        ]),
        additionalProperties: false,
      },
    },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: 'object' } },
        responses: { type: 'object', additionalProperties: { $ref: '#/$defs/response' } },
        securitySchemes: { type: 'object', additionalProperties: { type: 'object', required: ['type'] } },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

interface Layer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route express mounts: its path as OpenAPI writes it → methods (`*` for a route that takes any method). */
function mountedRoutes(app: Express): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route && typeof layer.route.path === 'string') {
        const openApiPath = layer.route.path
          .replace(/\\:/g, ':')
          .replace(/\{\*(\w+)\}/g, '{$1}')
          .replace(/(^|\/):(\w+)/g, '$1{$2}');
        const methods = routes.get(openApiPath) ?? new Set<string>();
        for (const [method, on] of Object.entries(layer.route.methods)) if (on) methods.add(method === '_all' ? '*' : method);
        routes.set(openApiPath, methods);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}

/** The mounted routes are described, every method each takes (a route of any method: every method OpenAPI names). */
function expectDescribed(app: Express): Set<string> {
  const document = openApiDocument();
  const mounted = mountedRoutes(app);
  expect(mounted.size).toBeGreaterThan(3);
  for (const [route, methods] of mounted) {
    const item = document.paths[route];
    expect({ route, described: item !== undefined }).toEqual({ route, described: true });
    const described = new Set(METHODS.filter((m) => item?.[m] !== undefined));
    const specific = [...methods].filter((m) => m !== '*');
    if (specific.length === 0) {
      // router.all only: forward-auth, which answers every method.
      expect({ route, methods: [...described].sort() }).toEqual({ route, methods: ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'] });
    } else {
      // A GET route takes HEAD too (express); the rest are 405 (router.all(..., methodNotAllowed)).
      const expected = new Set(specific.flatMap((m) => (m === 'get' ? ['get'] : [m])));
      expect({ route, methods: [...described].filter((m) => m !== 'head').sort() }).toEqual({ route, methods: [...expected].sort() });
    }
  }
  return new Set(mounted.keys());
}

describe('GET /openapi.json: the OpenAPI 3.1 description of every route', () => {
  let fake: FakeGoogle;
  let oauth: FakeOAuth;
  beforeAll(async () => {
    [fake, oauth] = await Promise.all([FakeGoogle.start(), FakeOAuth.start()]);
  });
  afterAll(async () => {
    await Promise.all([fake.close(), oauth.close()]);
  });

  it('is served as JSON with Cache-Control: no-store, and is the document of src/http/openapi.ts', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual(openApiDocument());
    expect(res.body.info.version).toBe((JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version);
    await request(app).head('/openapi.json').expect(200);
    expect((await request(app).post('/openapi.json').expect(405)).headers.allow).toBe('GET, HEAD');
  });

  it('is a structurally valid OpenAPI 3.1 document whose every schema compiles (JSON Schema 2020-12) and every $ref resolves', () => {
    const document = openApiDocument();
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const structure = ajv.compile(OPENAPI_31_STRUCTURE);
    expect(structure(document) ? [] : structure.errors).toEqual([]);
    // And it refuses what OpenAPI 3.1 does not allow: a response without a description, a status that is no status.
    const broken = openApiDocument();
    delete (broken.paths['/healthz']?.get?.responses['200'] as { description?: string }).description;
    expect(structure(broken)).toBe(false);
    const badStatus = openApiDocument();
    (badStatus.paths['/healthz']?.get?.responses as Record<string, unknown>)['20x'] = { description: 'x' };
    expect(structure(badStatus)).toBe(false);

    // Each schema, compiled in strict mode (unknown keywords, bad types are errors) against the document's components.
    const strict = new Ajv2020({ strict: true, allErrors: true, strictRequired: false });
    addFormats(strict);
    strict.addVocabulary(['components']);
    strict.addSchema({ $id: 'doc', components: document.components } as never);
    for (const name of Object.keys(document.components.schemas)) strict.compile({ $ref: `doc#/components/schemas/${name}` });
    const operationIds = new Set<string>();
    let schemas = 0;
    const compile = (schema: unknown) => {
      strict.compile({ $id: `s${schemas}`, ...rewriteRefs(schema) } as never);
      schemas++;
    };
    for (const [template, item] of Object.entries(document.paths)) {
      const pathParams = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const method of METHODS) {
        const op = item[method] as OperationObject | undefined;
        if (!op) continue;
        expect(operationIds.has(op.operationId)).toBe(false);
        operationIds.add(op.operationId);
        // Every template parameter is declared, in: path, required (OpenAPI 3.1 §4.8.12.1).
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort()).toEqual([...pathParams].sort());
        for (const tag of op.tags) expect(document.tags.map((t) => t.name)).toContain(tag);
        for (const p of op.parameters ?? []) compile(p.schema);
        for (const media of Object.values(op.requestBody?.content ?? {})) compile(media.schema);
        for (const response of Object.values(op.responses)) {
          for (const media of Object.values(response.content ?? {})) compile(media.schema);
          for (const header of Object.values(response.headers ?? {})) compile(header.schema);
        }
      }
    }
    for (const response of Object.values(document.components.responses)) for (const media of Object.values(response.content ?? {})) compile(media.schema);
    expect(schemas).toBeGreaterThan(100);
  });

  it('lists every error code of src/errors.ts, and every `error` value an error class answers', () => {
    const document = openApiDocument();
    expect(document.components.schemas.ErrorCode?.enum).toEqual([...errors.ERROR_CODES]);
    const values = new Set<string>();
    for (const value of Object.values(errors)) {
      if (typeof value !== 'function' || !(value.prototype instanceof errors.FirebridgeError)) continue;
      const instance = new (value as unknown as new (...args: unknown[]) => errors.FirebridgeError)('x', 'x', []);
      values.add(instance.oauthError);
    }
    expect(values.size).toBeGreaterThan(10);
    for (const value of values) expect(ERROR_VALUES).toContain(value);
    expect((document.components.schemas.Error?.properties as Record<string, { enum: string[] }>).error?.enum).toEqual([...ERROR_VALUES]);
  });

  it('describes the refusals of every optional group (each response checked by the jest setup)', async () => {
    const keysFile = vaultKeyFile();
    const { app } = bridgeFor(fake, {
      push: new RecordingPush(),
      env: { ...vaultEnv(oauth, keysFile), ADMIN_API_TOKEN: 'admin-secret-0123456789-abcdefghijklmnop', PUSH_API_TOKEN: 'push-secret-9876543210-zyxwvutsrqponmlk', DEVICE_SIGN_IN: 'true' },
    });
    const basic = 'Basic dXNlcjpwYXNz';
    await request(app).post('/v1/device/challenge').set('Authorization', basic).send({ fcmToken: 'x' }).expect(401);
    await request(app).post('/v1/device/challenge').set('Authorization', 'Bearer a.b.c').send({ fcmToken: 'x' }).expect(401);
    await request(app).post('/v1/device/challenge').send({}).expect(400);
    await request(app).post('/v1/device/verify').set('Authorization', basic).send({ challengeId: 'x', code: '123456' }).expect(401);
    await request(app).post('/v1/device/verify').send({ code: 'abc' }).expect(400);
    await request(app).get('/v1/google/access-token').expect(401);
    await request(app).get('/v1/google/access-token').set('Authorization', `Bearer ${await fake.firebaseIdToken()}`).query({ scope: '' }).expect(400);
    await request(app).delete('/v1/google/link').set('Authorization', 'Bearer a.b.c').expect(401);
    await request(app).post('/v1/admin/revoke').send({ uid: 'u' }).expect(401);
    await request(app).post('/v1/admin/revoke').set('Authorization', 'Bearer admin-secret-0123456789-abcdefghijklmnop').send({}).expect(400);
    await request(app).post('/v1/push/send').set('Authorization', 'Bearer wrong').send({ message: {} }).expect(401);
    await request(app).post('/v1/push/send').set('Authorization', 'Bearer push-secret-9876543210-zyxwvutsrqponmlk').send({ nope: 1 }).expect(400);
    await request(app).get('/v1/me').set('Authorization', 'Bearer a b').expect(400);
    await request(app).post('/v1/token/google').set('Content-Type', 'application/json').send('{"idToken":').expect(400);
    await request(app).post('/v1/nonce').expect(200);
    await request(app).get('/readyz').expect(200);
    await request(app).get('/V1/ME').expect(404);
  });

  it('describes every route of a configured server with every optional group on, and of local mode; nothing more', () => {
    const keysFile = vaultKeyFile();
    const { app } = bridgeFor(fake, {
      push: new RecordingPush(),
      env: {
        ...vaultEnv(oauth, keysFile),
        ADMIN_API_TOKEN: 'admin-secret-0123456789-abcdefghijklmnop',
        PUSH_API_TOKEN: 'push-secret-9876543210-zyxwvutsrqponmlk',
        DEVICE_SIGN_IN: 'true',
      },
    });
    const configured = expectDescribed(app);
    for (const route of ['/v1/admin/revoke', '/v1/push/send', '/v1/device/challenge', '/v1/google/access-token', '/oauth/token', '/openapi.json']) {
      expect(configured).toContain(route);
    }

    const config = loadConfig({ LOCAL_STATE_DIR: path.join(mkdtempSync(path.join(tmpdir(), 'firebridge-openapi-')), '.local') });
    expect(config.mode).toBe('local');
    const local = createApp(config, createDependencies(config, { logger: createLogger('silent'), clock: Date.now, fetch: globalThis.fetch }));
    const localRoutes = expectDescribed(local);
    expect(localRoutes).toContain('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken');

    // Nothing described that no mode mounts.
    const mountedAnywhere = new Set([...configured, ...localRoutes]);
    expect(Object.keys(openApiDocument().paths).filter((p) => !mountedAnywhere.has(p))).toEqual([]);
    // Local-mode-only routes are tagged.
    for (const route of [...localRoutes].filter((r) => !configured.has(r))) {
      const item = openApiDocument().paths[route] ?? {};
      for (const op of METHODS.flatMap((m) => item[m] ?? [])) expect(op.tags).toContain('local-mode');
    }
  });
});

/** `#/components/...` refs point into the document added as `doc`. */
function rewriteRefs(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"doc#/components/')) as Record<string, unknown>;
}

describe('the response validator (testkit/openapi-validator.ts) and the supertest hook', () => {
  const ok = { 'content-type': 'application/json; charset=utf-8' };
  const problems = (method: string, path: string, status: number, body: unknown, headers: Record<string, string> = ok) =>
    responseProblems({ method, path, status, headers, text: body === undefined ? '' : JSON.stringify(body) });

  it('matches path templates, a literal path first', () => {
    expect(matchPath('/v1/authz')).toBe('/v1/authz');
    expect(matchPath('/v1/authz/')).toBe('/v1/authz/{rest}');
    expect(matchPath('/v1/authz/a/b/c')).toBe('/v1/authz/{rest}');
    expect(matchPath('/v1/me/')).toBeUndefined();
    expect(matchPath('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken')).toBe('/identitytoolkit.googleapis.com/v1/accounts:signInWithCustomToken');
    expect(matchPath('/identitytoolkit.googleapis.com/v1/accountsXsignInWithCustomToken')).toBeUndefined();
  });

  it('passes documented responses', () => {
    expect(problems('GET', '/healthz', 200, { status: 'ok' })).toEqual([]);
    expect(problems('HEAD', '/healthz', 200, undefined)).toEqual([]);
    expect(problems('GET', '/nope', 404, { error: 'not_found', error_description: 'no such route' })).toEqual([]);
    expect(problems('PUT', '/v1/me', 405, { error: 'method_not_allowed', error_description: 'x' }, { ...ok, allow: 'GET, HEAD' })).toEqual([]);
    // A CORS preflight is answered before routing, on any path but forward-auth's (components.responses.CorsPreflight).
    const preflight = {
      'access-control-allow-origin': 'http://localhost:5173',
      'access-control-allow-methods': 'GET, HEAD, POST, DELETE',
      'access-control-allow-headers': 'Authorization, Content-Type, X-Request-Id, X-Client-Version, X-Firebase-gmpid, X-Firebase-Client, X-Firebase-Locale, X-Firebase-AppCheck',
      'access-control-max-age': '600',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    };
    for (const path of ['/v1/token/google', '/nope']) expect(problems('OPTIONS', path, 204, undefined, preflight)).toEqual([]);
    // Forward-auth answers proxies (a 2xx is a pass): a token-less 204 there is no documented answer.
    for (const path of ['/v1/authz', '/v1/authz/x']) expect(problems('OPTIONS', path, 204, undefined, preflight)).not.toEqual([]);
    expect(problems('GET', '/v1/authz/x', 200, undefined, { 'x-auth-uid': 'u', 'x-auth-email-verified': 'true', 'x-auth-claims': 'e30' })).toEqual([]);
  });

  it('fails an undocumented route, method, status or content type, a wrong body, a missing required header', () => {
    expect(problems('GET', '/nope', 200, {})).toEqual([expect.stringMatching(/^undocumented route/)]);
    expect(problems('PUT', '/v1/me', 200, {})).toEqual([expect.stringMatching(/^undocumented method PUT/)]);
    expect(problems('GET', '/healthz', 418, {})).toEqual([expect.stringMatching(/^undocumented status 418/)]);
    expect(problems('GET', '/healthz', 200, { status: 'ok' }, { 'content-type': 'text/html' })).toEqual([expect.stringMatching(/^undocumented content type text\/html/)]);
    expect(problems('GET', '/healthz', 200, { status: 'fine' })).toEqual([expect.stringMatching(/^body: .*status/)]);
    expect(problems('GET', '/healthz', 200, { status: 'ok', extra: 1 })).toEqual([expect.stringMatching(/additional properties/)]);
    expect(problems('GET', '/healthz', 200, undefined)).toEqual([expect.stringMatching(/^no body/)]);
    expect(problems('DELETE', '/v1/google/link', 204, {})).toEqual([expect.stringMatching(/^a body where the document says none/)]);
    // An error value the route cannot answer, and one that is no error value at all.
    expect(problems('GET', '/v1/me', 401, { error: 'access_denied', error_description: 'x' }, { ...ok, 'www-authenticate': 'Bearer realm="firebridge"' })).toEqual([
      expect.stringMatching(/^body: .*allowed values/),
    ]);
    expect(problems('GET', '/v1/me', 401, { error: 'invalid_token', error_description: 'x' })).toEqual([expect.stringMatching(/^required header WWW-Authenticate missing/)]);
    expect(problems('GET', '/v1/me', 401, { error: 'invalid_token', error_description: 'x' }, { ...ok, 'www-authenticate': 'Basic' })).toEqual([expect.stringMatching(/^header WWW-Authenticate/)]);
    expect(problems('PUT', '/v1/me', 405, { error: 'method_not_allowed', error_description: 'x' })).toEqual([expect.stringMatching(/required header Allow/)]);
    // Any method of an optional group's path may be 404 (the group is off); an always-mounted path's may not.
    const notFound = { error: 'not_found', error_description: 'no such route' };
    expect(problems('PUT', '/', 404, notFound)).toEqual([]);
    expect(problems('PUT', '/v1/admin/revoke', 404, notFound)).toEqual([]);
    expect(problems('PUT', '/v1/me', 404, notFound)).toEqual([expect.stringMatching(/^undocumented method PUT for \/v1\/me/)]);
    // A 204 to OPTIONS without the preflight's headers, or with a body, is no CORS preflight.
    expect(problems('OPTIONS', '/v1/token/google', 204, undefined, {})).toEqual(expect.arrayContaining([expect.stringMatching(/^required header Access-Control-Allow-Origin missing/)]));
    expect(problems('OPTIONS', '/v1/token/google', 204, undefined, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'PUT' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^header Access-Control-Allow-Methods/)]),
    );
  });

  it('a supertest request whose response the document does not describe fails, naming the route and the problem', async () => {
    // Not marked notTheBridge: an app answering /v1/me and /healthz as the bridge never would.
    const impostor = express();
    impostor.get('/v1/me', (_req, res) => {
      res.json({ user: 'nobody' });
    });
    impostor.get('/healthz', (_req, res) => {
      res.status(299).json({ status: 'ok' });
    });
    await expect(request(impostor).get('/v1/me')).rejects.toThrow(/does not match \/openapi\.json[\s\S]*required property 'uid'[\s\S]*GET \/v1\/me -> 200/);
    await expect(request(impostor).get('/healthz').expect(299)).rejects.toThrow(/undocumented status 299 for GET \/healthz/);
    // The test's own expectation still fails first, with its own message.
    await expect(request(impostor).get('/v1/me').expect(201)).rejects.toThrow(/expected 201 "Created", got 200 "OK"/);
  });

  it('bridgeFetch checks the responses of a registered bridge origin, and only those; the body stays readable', async () => {
    const impostor = express();
    impostor.get('/healthz', (_req, res) => {
      res.json({ status: 'fine' });
    });
    const servers = await Promise.all([0, 1].map(() => new Promise<import('node:http').Server>((resolve) => {
      const server = impostor.listen(0, '127.0.0.1', () => resolve(server));
    })));
    try {
      const [checkedUrl, otherUrl] = servers.map((server) => `http://127.0.0.1:${(server.address() as { port: number }).port}`) as [string, string];
      const fetch = bridgeFetch();
      fetch.bridge(checkedUrl);
      await expect(fetch(`${checkedUrl}/healthz`)).rejects.toThrow(/does not match \/openapi\.json[\s\S]*GET \/healthz -> 200/);
      const passed = await fetch(`${otherUrl}/healthz`);
      expect(await passed.json()).toEqual({ status: 'fine' });
    } finally {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
