import { Router } from 'express';
import type { Logger } from 'pino';
import { googleDeveloperClaims } from '../../auth/custom-token';
import type { GoogleIdTokenVerifier } from '../../auth/google-id-token-verifier';
import type { CustomTokenSigner } from '../../auth/signer';
import { uidForGoogleSub } from '../../auth/uid';
import { InvalidRequestError } from '../../errors';

export interface TokenRouteDeps {
  googleVerifier: Pick<GoogleIdTokenVerifier, 'verify'>;
  signer: CustomTokenSigner;
  logger: Logger;
}

/** Reads `{"idToken": "<string>"}` from a JSON body, or says exactly what is wrong. */
export function readIdToken(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object (Content-Type: application/json)');
  }
  const idToken = (body as Record<string, unknown>).idToken;
  if (idToken === undefined) throw new InvalidRequestError('"idToken" is required');
  if (typeof idToken !== 'string' || idToken === '') {
    throw new InvalidRequestError('"idToken" must be a non-empty string');
  }
  return idToken;
}

/** POST /v1/token/google: a Google ID token in, a Firebase custom token out. */
export function tokenRoutes(deps: TokenRouteDeps): Router {
  const router = Router();
  router.post('/v1/token/google', async (req, res) => {
    const idToken = readIdToken(req.body);
    const identity = await deps.googleVerifier.verify(idToken);
    const uid = uidForGoogleSub(identity.sub);
    const minted = await deps.signer.mint(uid, googleDeveloperClaims(identity));
    deps.logger.info({ uid, kid: minted.kid }, 'custom token issued');
    res.json({ customToken: minted.customToken, uid, expiresIn: minted.expiresIn });
  });
  return router;
}
