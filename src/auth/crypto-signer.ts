/**
 * The port custom tokens are signed through, after firebase-admin's CryptoSigner: it only signs
 * bytes. Building the token is the generator's job (custom-token-generator.ts). Implementations:
 * a key file held in memory (keys/key-file-signer.ts), IAM Credentials signBlob
 * (google/iam-signer.ts), local mode's throwaway key, and, for the Firebase Auth Emulator only,
 * no signature at all (google/emulated-signer.ts, firebase-admin's EmulatedSigner).
 */
export interface CryptoSigner {
  /** The JWS algorithm of the signatures (the header's alg): "none" only for the Auth Emulator. */
  readonly algorithm: 'RS256' | 'none';
  /** Whether signing can work right now (readiness). */
  isReady(): boolean;
  /**
   * The key the next token is signed with, fixed for that whole token (a key rotation between
   * building the header and signing must not mix two keys); undefined when none is loaded.
   */
  signingKey(): SigningKey | undefined;
}

export interface SigningKey {
  /** The service account the token is issued by (its iss and sub). */
  readonly accountEmail: string;
  /** The key ID, when it is known before signing (it goes in the header); IAM picks its own. */
  readonly kid?: string;
  /** Signs the JWS signing input; answers the signature and the ID of the key that made it. */
  sign(data: Buffer): Promise<{ signature: Buffer; kid: string }>;
}
