import type { NextFunction, Request, Response } from 'express';
import type { FirebaseTokenVerifier, FirebaseUser } from '../../src/auth/firebase-token-verifier';
import { InvalidTokenError } from '../../src/errors';
import { requireFirebaseAuth } from '../../src/http/require-firebase-auth';

const user: FirebaseUser = Object.freeze({ uid: 'ada', claims: Object.freeze({ sub: 'ada' }), exp: 2_000_000_000 });

function call(verifier: FirebaseTokenVerifier, authorization: string) {
  const req = { headers: { authorization } } as unknown as Request;
  const sent: Array<{ status: number; body: unknown }> = [];
  const headers: Record<string, string> = {};
  // The node:http response sendError writes to (statusCode, setHeader, end).
  let statusCode = 200;
  const res = {
    locals: {},
    headersSent: false,
    set statusCode(code: number) {
      statusCode = code;
    },
    get statusCode() {
      return statusCode;
    },
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
      return res;
    },
    end(body: string) {
      sent.push({ status: statusCode, body: JSON.parse(body) });
      return res;
    },
  } as unknown as Response;
  const next = jest.fn() as unknown as NextFunction & jest.Mock;
  const returned = requireFirebaseAuth({ verifier })(req, res, next);
  return { req, res, next, returned, sent, headers };
}

describe('requireFirebaseAuth: a cache hit is answered synchronously, everything else through the async path', () => {
  it('a hit (peek answers) calls next before the middleware returns, with no promise', () => {
    const verifier = { peek: jest.fn(() => user), verify: jest.fn() };
    const { req, next, returned } = call(verifier as unknown as FirebaseTokenVerifier, 'Bearer a.b.c');
    expect(returned).toBeUndefined();
    expect(next).toHaveBeenCalledTimes(1);
    expect(next).toHaveBeenCalledWith();
    expect(req.firebaseUser).toBe(user);
    expect(verifier.verify).not.toHaveBeenCalled();
  });

  it('a miss verifies (a promise express awaits), then calls next; a refusal answers 401 and never calls next', async () => {
    const ok = call({ peek: () => undefined, verify: async () => user }, 'Bearer a.b.c');
    expect(ok.returned).toBeInstanceOf(Promise);
    expect(ok.next).not.toHaveBeenCalled();
    await ok.returned;
    expect(ok.next).toHaveBeenCalledTimes(1);
    expect(ok.req.firebaseUser).toBe(user);

    const refused = call(
      {
        verify: async () => {
          throw new InvalidTokenError('token signature is invalid', 'ERR_JWS_SIGNATURE');
        },
      },
      'Bearer a.b.c',
    );
    await refused.returned;
    expect(refused.next).not.toHaveBeenCalled();
    expect(refused.sent[0]?.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="firebridge", error="invalid_token"/);
  });

  it('no token: 401 at once, the verifier never asked', () => {
    const verifier = { peek: jest.fn(), verify: jest.fn() };
    const { next, returned, sent } = call(verifier as unknown as FirebaseTokenVerifier, '');
    expect(returned).toBeUndefined();
    expect(next).not.toHaveBeenCalled();
    expect(sent[0]?.status).toBe(401);
    expect(verifier.peek).not.toHaveBeenCalled();
  });
});
