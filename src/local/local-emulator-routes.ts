import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { AuthEmulatorError } from '../errors';
import { methodNotAllowed, strictRouter } from '../http/routing';
import type { Body, LocalIdentityToolkit } from './local-identity-toolkit';

/** The Auth Emulator's REST paths local mode answers (the client SDKs add `?key=<API key>`: any key is accepted). */
export const IDENTITY_TOOLKIT_PREFIX = '/identitytoolkit.googleapis.com/v1/accounts';
export const SIGN_IN_WITH_CUSTOM_TOKEN_PATH = `${IDENTITY_TOOLKIT_PREFIX}:signInWithCustomToken`;
export const LOOKUP_PATH = `${IDENTITY_TOOLKIT_PREFIX}:lookup`;
export const DELETE_PATH = `${IDENTITY_TOOLKIT_PREFIX}:delete`;
export const UPDATE_PATH = `${IDENTITY_TOOLKIT_PREFIX}:update`;
export const SECURETOKEN_PATH = '/securetoken.googleapis.com/v1/token';

/** Every path of the emulated REST API, for the start-up log. */
export const EMULATOR_PATHS = [SIGN_IN_WITH_CUSTOM_TOKEN_PATH, LOOKUP_PATH, UPDATE_PATH, DELETE_PATH, SECURETOKEN_PATH] as const;

/** A path for express: its `:` literal, never a route parameter (unescaped, `accounts<anything>` would match). */
export function literalPath(path: string): string {
  return path.replace(/:/g, '\\:');
}

function bodyOf(req: Request): Body {
  const body: unknown = req.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Body) : {};
}

/**
 * Google's REST error shape, as the Auth Emulator sends it and the client SDKs parse it: `error.message` is
 * `CODE : detail`, and the SDK answers `auth/<code>` (its own mapping, else the code in kebab case).
 */
export function sendEmulatorError(res: Response, err: unknown, logger: Logger): void {
  if (err instanceof AuthEmulatorError) {
    res.status(400).json({
      error: {
        code: 400,
        message: `${err.reason} : ${err.message}`,
        errors: [{ message: err.reason, domain: 'global', reason: 'invalid' }],
      },
    });
    return;
  }
  logger.error({ err: (err as Error)?.message }, 'local Auth Emulator call failed');
  res.status(500).json({ error: { code: 500, message: 'INTERNAL_ERROR', errors: [{ message: 'INTERNAL_ERROR', domain: 'global', reason: 'backendError' }] } });
}

/** The Identity Toolkit and securetoken calls of the Firebase client SDKs, in local mode. */
export function emulatorRoutes(toolkit: LocalIdentityToolkit, options: { logger: Logger; maxBodyBytes: number }): Router {
  const router = strictRouter();
  const { logger } = options;
  const route = (path: string, call: (body: Body) => Promise<unknown>, ...before: express.RequestHandler[]) => {
    router.post(literalPath(path), ...before, async (req: Request, res: Response) => {
      try {
        res.json(await call(bodyOf(req)));
      } catch (err) {
        sendEmulatorError(res, err, logger);
      }
    });
    router.all(literalPath(path), methodNotAllowed('POST'));
  };
  route(SIGN_IN_WITH_CUSTOM_TOKEN_PATH, (body) => toolkit.signInWithCustomToken(body));
  route(LOOKUP_PATH, (body) => toolkit.lookup(body));
  route(UPDATE_PATH, (body) => toolkit.update(body));
  route(DELETE_PATH, (body) => toolkit.delete(body));
  // The SDK sends the refresh form-encoded (JSON is parsed by the app already).
  route(SECURETOKEN_PATH, (body) => toolkit.refresh(body), express.urlencoded({ extended: false, limit: options.maxBodyBytes }));
  return router;
}
