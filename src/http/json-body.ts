import type { IncomingMessage } from 'node:http';

/** `application/json`, with no parameter or `charset=utf-8` only (any case, optional spaces; quoted or not). */
const PLAIN_JSON = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i;
const DIGITS = /^\d{1,10}$/;

/**
 * Whether the request's body is plain JSON that needs none of express.json's machinery: Content-Type
 * `application/json` (UTF-8), no Content-Encoding, no Transfer-Encoding, a Content-Length within `limit`. Anything
 * else (gzip, another charset or type, chunked, too large) is left to the app's parser, which refuses or inflates it.
 */
export function isPlainJsonBody(req: IncomingMessage, limit: number): boolean {
  const { headers } = req;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
  const type = headers['content-type'];
  const length = headers['content-length'];
  if (type === undefined || length === undefined || !DIGITS.test(length) || Number(length) > limit) return false;
  return PLAIN_JSON.test(type);
}

/** A body-parser refusal of unparsable JSON (type `entity.parse.failed`): send-error answers it as for the app. */
function parseFailed(message: string): Error {
  return Object.assign(new SyntaxError(message), { type: 'entity.parse.failed', status: 400, statusCode: 400, expose: true });
}

/** body-parser's refusal of a body the client stopped sending (type `request.aborted`). */
function aborted(): Error {
  return Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400, statusCode: 400, expose: true });
}

const WHITESPACE = /^[\x20\x09\x0a\x0d]*/;

/**
 * Parses a body read in full as express.json({ strict: true }) does: UTF-8 with a leading BOM dropped, an empty body
 * is `{}`, anything but an object or array (after JSON whitespace) is refused, and so is invalid JSON.
 */
export function parseStrictJson(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = body.charAt(WHITESPACE.exec(body)?.[0].length ?? 0);
  if (first !== '{' && first !== '[') throw parseFailed(`Unexpected token ${JSON.stringify(first)} in JSON at position 0`);
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    throw parseFailed((err as Error).message);
  }
}

/**
 * Reads a plain JSON body (isPlainJsonBody) and parses it (parseStrictJson). Node's parser delivers exactly
 * Content-Length bytes, or the request errors (the client went away).
 */
export function readPlainJson(req: IncomingMessage, done: (err: Error | undefined, body?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let finished = false;
  const finish = (err: Error | undefined, body?: unknown) => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('error', () => finish(aborted()));
  req.on('aborted', () => finish(aborted()));
  req.on('end', () => {
    let body: unknown;
    try {
      body = parseStrictJson(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      finish(err as Error);
      return;
    }
    finish(undefined, body);
  });
}
