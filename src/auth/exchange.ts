import type { Logger } from 'pino';
import { type AuditTrail, auditFailure } from '../audit/audit-trail';
import type { Clock } from '../clock';
import { InvalidRequestError } from '../errors';
import { OutcomeCounts } from '../outcomes';
import { googleDeveloperClaims } from './custom-token';
import type { CustomTokenMinter } from './custom-token-generator';
import type { AccountLinker, GoogleLinkOutcome } from './google-link';
import type { GoogleIdTokenVerifier } from './google-id-token-verifier';
import type { NonceService } from './nonces';
import type { ReplayGuard } from './replay-guard';
import type { SignInPolicy } from './sign-in-policy';
import { uidForGoogleSub } from './uid';

export interface ExchangeResult {
  customToken: string;
  uid: string;
  expiresIn: number;
  /** Present when the request carried a serverAuthCode. */
  google?: GoogleLinkOutcome;
}

/** What the HTTP edge knows of the request, for the audit trail. */
export interface ExchangeContext {
  /** The client's IP (req.ip: X-Forwarded-For only through TRUST_PROXY). */
  clientIp?: string;
}

/** A server auth code sent with the ID token (account linking). */
export interface ServerAuthCode {
  code: string;
  /** '' for Android and iOS, 'postmessage' for the web popup flow. */
  redirectUri: string;
}

export interface ExchangeDeps {
  googleVerifier: Pick<GoogleIdTokenVerifier, 'verify'>;
  minter: CustomTokenMinter;
  logger: Logger;
  clock: Clock;
  policy?: SignInPolicy;
  /** Set when REQUIRE_NONCE is on. */
  nonces?: NonceService;
  /** Set when REPLAY_PROTECTION is on. */
  replay?: ReplayGuard;
  /** Set when GOOGLE_OAUTH_CLIENT_ID is: links the Google account from a server auth code. */
  linker?: AccountLinker;
  /** Every exchange (and account link) is recorded here: uid, sub, azp, IP, outcome, reason code. */
  audit?: AuditTrail;
}

/**
 * Google ID token in, Firebase custom token out, in this order: verify the token, apply the
 * sign-in policy, mark the token used (replay), consume the nonce, mint. Cheap refusals come
 * first; single-use state is spent only on tokens that would otherwise succeed, and is given back
 * when a later step fails: a refused nonce releases the replay mark, and a failed mint releases
 * the mark and restores the nonce, so the user can retry with the same token. A server auth code
 * is exchanged last, once the custom token is minted: its outcome is in `google`, and never fails the sign-in.
 */
export class TokenExchange {
  /** Exchanges by outcome and error code (firebridge_exchanges_total). */
  readonly outcomes = new OutcomeCounts();

  constructor(private readonly deps: ExchangeDeps) {}

  async exchange(idToken: string, serverAuthCode?: ServerAuthCode, context: ExchangeContext = {}): Promise<ExchangeResult> {
    // Only verified claims are audited: a refused token's claims are whatever its sender wrote.
    let verified: { sub: string; azp?: string; email?: string; uid: string } | undefined;
    try {
      const result = await this.run(idToken, serverAuthCode, (identity) => {
        verified = { sub: identity.sub, azp: identity.azp, email: identity.email, uid: uidForGoogleSub(identity.sub) };
      });
      this.outcomes.succeeded();
      this.deps.audit?.record({ event: 'token.exchange', outcome: 'ok', ...verified, ip: context.clientIp, linkRequested: serverAuthCode !== undefined });
      if (result.google !== undefined && verified !== undefined) {
        const link = result.google;
        this.deps.audit?.record({
          event: 'vault.link',
          outcome: link.linked ? 'ok' : 'refused',
          reason: link.linked ? undefined : link.reason,
          uid: verified.uid,
          sub: verified.sub,
          scopes: link.scopes,
          ip: context.clientIp,
        });
      }
      return result;
    } catch (err) {
      this.outcomes.failed(err);
      this.deps.audit?.record({ event: 'token.exchange', ...auditFailure(err), ...verified, ip: context.clientIp });
      throw err;
    }
  }

  private async run(
    idToken: string,
    serverAuthCode: ServerAuthCode | undefined,
    onVerified: (identity: { sub: string; azp?: string; email?: string }) => void,
  ): Promise<ExchangeResult> {
    const { deps } = this;
    if (serverAuthCode !== undefined && deps.linker === undefined) {
      throw new InvalidRequestError('"serverAuthCode" was sent but account linking is not configured');
    }
    const identity = await deps.googleVerifier.verify(idToken);
    onVerified(identity);
    deps.policy?.check(identity, Math.floor(deps.clock() / 1000));
    if (deps.replay) await deps.replay.claim(idToken, identity.exp, identity.iat);
    if (deps.nonces) {
      try {
        await deps.nonces.consume(identity.nonce);
      } catch (err) {
        await deps.replay?.release(idToken);
        throw err;
      }
    }
    const uid = uidForGoogleSub(identity.sub);
    let minted;
    try {
      minted = await deps.minter.mint(uid, googleDeveloperClaims(identity));
    } catch (err) {
      // Our failure, not the user's: let the same token be tried again.
      await deps.replay?.release(idToken);
      if (deps.nonces && identity.nonce !== undefined) await deps.nonces.restore(identity.nonce);
      throw err;
    }
    deps.logger.info({ uid, kid: minted.kid }, 'custom token issued');
    const result: ExchangeResult = { customToken: minted.customToken, uid, expiresIn: minted.expiresIn };
    if (serverAuthCode !== undefined && deps.linker !== undefined) {
      // After the sign-in succeeded, and it never fails for the link: the outcome goes into the reply.
      result.google = await deps.linker
        .link(uid, identity.sub, serverAuthCode.code, serverAuthCode.redirectUri)
        .catch((err: unknown): GoogleLinkOutcome => {
          deps.logger.error({ uid, err: (err as Error).message }, 'account linking failed');
          return { linked: false, reason: 'unavailable' };
        });
    }
    return result;
  }
}
