import { OutcomeCounts } from '../outcomes';
import type { FirebaseTokenVerifier, FirebaseUser } from './firebase-token-verifier';

/**
 * The outermost Firebase verifier of the server: counts what every caller was answered (cache hits,
 * revocation refusals and all) by outcome and error code, for firebridge_verifications_total{token="firebase"}.
 * It offers `peek` exactly when the verifier inside does (a revocation check offers none, so it keeps running).
 */
export class CountingFirebaseVerifier implements FirebaseTokenVerifier {
  readonly outcomes = new OutcomeCounts();
  readonly peek?: (token: string) => FirebaseUser | undefined;
  private readonly ok = (user: FirebaseUser): FirebaseUser => {
    this.outcomes.succeeded();
    return user;
  };
  private readonly refused = (err: unknown): never => {
    this.outcomes.failed(err);
    throw err;
  };

  constructor(readonly inner: FirebaseTokenVerifier) {
    if (inner.peek) {
      const peek = inner.peek.bind(inner);
      this.peek = (token) => {
        const user = peek(token);
        if (user !== undefined) this.outcomes.succeeded();
        return user;
      };
    }
  }

  verify(token: string): Promise<FirebaseUser> {
    return this.inner.verify(token).then(this.ok, this.refused);
  }
}
