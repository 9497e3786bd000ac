import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { type HttpMethod, type OpenApiDocument, type OperationObject, type ResponseObject, openApiDocument } from '../src/http/openapi';

/**
 * Checks a response the bridge gave against its OpenAPI document (src/http/openapi.ts): finds the operation for the
 * method and path (path templates such as /v1/authz/{rest}), fails on an undocumented route, status or content type,
 * on a missing required header, and validates the body against the schema (ajv, JSON Schema 2020-12, ajv-formats).
 *
 * The jest setup (testkit/openapi-jest-setup.ts) runs it on every supertest response; validatingFetch
 * (testkit/openapi-fetch.ts) on the responses of spawned servers.
 */

export interface ObservedResponse {
  method: string;
  /** The request's path; a query string is ignored. */
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body text ('' when none). */
  text: string;
}

interface Compiled {
  document: OpenApiDocument;
  ajv: Ajv2020;
  routes: Array<{ template: string; regex: RegExp; literal: boolean }>;
  validators: Map<string, ValidateFunction>;
}

/** Statuses Node's HTTP server answers on any path, before the app (components.responses). */
const SERVER_LEVEL: Record<number, string> = { 431: 'RequestHeaderFieldsTooLarge', 408: 'RequestTimeout' };

const DOCUMENT_ID = 'https://firebridge.invalid/openapi.json';
let compiled: Compiled | undefined;

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(): Compiled {
  if (compiled) return compiled;
  const document = openApiDocument();
  // strict: false, as the document holds OpenAPI keywords (paths, responses) around its schemas.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document as unknown as Record<string, unknown>, DOCUMENT_ID);
  const routes = Object.entries(document.paths).map(([template, item]) => {
    const params = new Map<string, boolean>();
    for (const op of Object.values(item) as OperationObject[]) {
      for (const p of (typeof op === 'object' && op.parameters) || []) if (p.in === 'path') params.set(p.name, p['x-matches-slashes'] === true);
    }
    const source = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1];
        if (name === undefined) return escapeRegex(part);
        return params.get(name) ? '(.*)' : '([^/]+)';
      })
      .join('');
    return { template, regex: new RegExp(`^${source}$`), literal: !template.includes('{') };
  });
  // A literal path wins over a template that also matches.
  routes.sort((a, b) => Number(b.literal) - Number(a.literal));
  compiled = { document, ajv, routes, validators: new Map() };
  return compiled;
}

/** A JSON pointer (RFC 6901) to a place in the document, as a URI fragment. */
function pointer(...tokens: string[]): string {
  return `#/${tokens.map((t) => encodeURIComponent(t.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
}

function validatorAt(c: Compiled, ptr: string): ValidateFunction {
  let validate = c.validators.get(ptr);
  if (!validate) {
    validate = c.ajv.compile({ $ref: `${DOCUMENT_ID}${ptr}` });
    c.validators.set(ptr, validate);
  }
  return validate;
}

function header(headers: ObservedResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function describe(r: ObservedResponse): string {
  const body = r.text.length > 400 ? `${r.text.slice(0, 400)}...` : r.text;
  return `${r.method} ${r.path} -> ${r.status} ${header(r.headers, 'content-type') ?? '(no content type)'} ${body}`;
}

/** Compiles every schema of the document now (ajv compiles lazily otherwise), e.g. before timing an event loop. */
export function compileAllSchemas(): number {
  const c = compile();
  let count = 0;
  const responses = (base: string[], response: ResponseObject) => {
    for (const name of Object.keys(response.headers ?? {})) validatorAt(c, pointer(...base, 'headers', name, 'schema'));
    for (const type of Object.keys(response.content ?? {})) validatorAt(c, pointer(...base, 'content', type, 'schema'));
    count++;
  };
  for (const [template, item] of Object.entries(c.document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (typeof operation !== 'object' || operation === null) continue;
      for (const [status, response] of Object.entries((operation as OperationObject).responses)) responses(['paths', template, method, 'responses', status], response);
    }
  }
  for (const [name, response] of Object.entries(c.document.components.responses)) responses(['components', 'responses', name], response);
  return count;
}

/** The document's template for a path, or undefined when no path matches. */
export function matchPath(path: string): string | undefined {
  return compile().routes.find((route) => route.regex.test(path))?.template;
}

/** Every problem of the response against the document ([] when it conforms). */
export function responseProblems(r: ObservedResponse): string[] {
  const c = compile();
  const path = r.path.split('?')[0] as string;
  const method = r.method.toLowerCase() as HttpMethod;
  const template = matchPath(path);
  let response: ResponseObject | undefined;
  let responsePointer: string[];
  // Node's HTTP parser refuses a request it cannot parse with a bare 400 (no body, no content type), on any path.
  const parserRefusal = r.status === 400 && r.text === '' && header(r.headers, 'content-type') === undefined;
  // The CORS middleware answers an allowed preflight before routing, on any path but forward-auth's (204, no body): no
  // operation lists it. /v1/authz answers proxies, for which a 204 would be a pass: there it is undocumented.
  const forwardAuth = template === '/v1/authz' || template === '/v1/authz/{rest}';
  const corsPreflight = method === 'options' && r.status === 204 && !forwardAuth;
  const serverLevel = parserRefusal ? 'MalformedRequest' : corsPreflight ? 'CorsPreflight' : SERVER_LEVEL[r.status];
  if (serverLevel !== undefined) {
    response = c.document.components.responses[serverLevel];
    responsePointer = ['components', 'responses', serverLevel];
  } else if (template === undefined) {
    if (r.status !== 404) return [`undocumented route: ${describe(r)}`];
    response = c.document.components.responses.NoSuchRoute;
    responsePointer = ['components', 'responses', 'NoSuchRoute'];
  } else {
    const item = c.document.paths[template] ?? {};
    // HEAD is answered by a GET route (express), without a body.
    const opMethod: HttpMethod = method === 'head' && !item.head ? 'get' : method;
    const operation = item[opMethod];
    // A path of an optional group that is off is no route at all, to any method.
    const unmounted = r.status === 404 && item['x-mounted-only-when'] !== undefined;
    if (operation === undefined && unmounted) {
      response = c.document.components.responses.NoSuchRoute;
      responsePointer = ['components', 'responses', 'NoSuchRoute'];
    } else if (operation === undefined) {
      if (r.status !== 405) return [`undocumented method ${r.method.toUpperCase()} for ${template}: ${describe(r)}`];
      response = c.document.components.responses.MethodNotAllowed;
      responsePointer = ['components', 'responses', 'MethodNotAllowed'];
    } else {
      response = operation.responses[String(r.status)];
      responsePointer = ['paths', template, opMethod, 'responses', String(r.status)];
      if (response === undefined) {
        return [`undocumented status ${r.status} for ${r.method.toUpperCase()} ${template} (documented: ${Object.keys(operation.responses).join(', ')}): ${describe(r)}`];
      }
    }
  }
  if (response === undefined) return [`no response object: ${describe(r)}`];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(response.headers ?? {})) {
    const value = header(r.headers, name);
    if (value === undefined) {
      if (spec.required) problems.push(`required header ${name} missing`);
      continue;
    }
    const validate = validatorAt(c, pointer(...responsePointer, 'headers', name, 'schema'));
    if (!validate(value)) problems.push(`header ${name}: ${JSON.stringify(value)} ${c.ajv.errorsText(validate.errors)}`);
  }
  const isHead = method === 'head';
  const contentType = header(r.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  const hasBody = r.text.length > 0;
  if (!response.content) {
    if (hasBody) problems.push(`a body where the document says none`);
  } else if (!hasBody) {
    if (!isHead) problems.push(`no body where the document says ${Object.keys(response.content).join(', ')}`);
  } else if (contentType === undefined || response.content[contentType] === undefined) {
    problems.push(`undocumented content type ${contentType ?? '(none)'} (documented: ${Object.keys(response.content).join(', ')})`);
  } else if (/\bjson$/.test(contentType)) {
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch {
      problems.push('the body is not valid JSON');
    }
    if (problems.length === 0) {
      const validate = validatorAt(c, pointer(...responsePointer, 'content', contentType, 'schema'));
      if (!validate(body)) problems.push(`body: ${c.ajv.errorsText(validate.errors, { separator: '; ' })}`);
    }
  }
  return problems.map((problem) => `${problem}\n  response: ${describe(r)}\n  documented at: ${responsePointer.join(' > ')}`);
}

/** Throws an Error naming every problem of the response against the document. */
export function assertDocumented(r: ObservedResponse): void {
  const problems = responseProblems(r);
  if (problems.length > 0) {
    throw new Error(`response does not match /openapi.json (src/http/openapi.ts):\n- ${problems.join('\n- ')}`);
  }
}

// ---- The escape hatch ----

const notBridge = new WeakSet<object>();

/**
 * Marks an app (or server) whose supertest responses are not checked. Only for apps that are not the bridge (a
 * library user's own express app in test/http/protected-routes.test.ts).
 */
export function notTheBridge<T extends object>(app: T): T {
  notBridge.add(app);
  return app;
}

/** True for a marked app, or a server (supertest wraps an app in one) whose request listener is a marked app. */
export function isNotTheBridge(app: unknown): boolean {
  if ((typeof app !== 'object' && typeof app !== 'function') || app === null) return false;
  if (notBridge.has(app)) return true;
  const listeners = (app as { listeners?: (event: string) => unknown[] }).listeners?.('request') ?? [];
  return listeners.some((listener) => typeof listener === 'function' && notBridge.has(listener));
}
