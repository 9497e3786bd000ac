import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import type { FirebaseTokenVerifier } from '../auth/firebase-token-verifier';
import { MissingCredentialsError } from '../errors';
import { bearerToken } from './bearer';
import { DEFAULT_REALM, bearerChallenge, toErrorReply } from './send-error';

/**
 * A passport strategy ("firebase-bearer") for apps that already use passport:
 *   passport.use(new FirebaseBearerStrategy({ verifier }));
 *   app.get('/x', passport.authenticate('firebase-bearer', { session: false }), handler);
 * `req.user` becomes the FirebaseUser. Refusals are passport failures with an RFC 6750
 * challenge (401); unavailable keys are passport errors (503 through your error handler).
 */
export class FirebaseBearerStrategy extends Strategy {
  name = 'firebase-bearer';
  private readonly realm: string;

  constructor(private readonly options: { verifier: FirebaseTokenVerifier; realm?: string }) {
    super();
    this.realm = options.realm ?? DEFAULT_REALM;
  }

  override authenticate(req: Request): void {
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch (err) {
      const reply = toErrorReply(err);
      const bare = err instanceof MissingCredentialsError;
      this.fail(bearerChallenge(this.realm, bare ? undefined : reply), reply.status);
      return;
    }
    this.options.verifier.verify(token).then(
      (user) => this.success(user),
      (err: unknown) => {
        const reply = toErrorReply(err);
        if (reply.status >= 500) this.error(err as Error);
        else this.fail(bearerChallenge(this.realm, reply), reply.status);
      },
    );
  }
}
