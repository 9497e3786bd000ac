import type { CryptoSigner, SigningKey } from '../auth/crypto-signer';

/** The account firebase-admin's EmulatedSigner names (iss and sub of its custom tokens). */
export const EMULATOR_SIGNER_ACCOUNT = 'firebase-auth-emulator@example.com';

const UNSIGNED: SigningKey = {
  accountEmail: EMULATOR_SIGNER_ACCOUNT,
  sign: () => Promise.resolve({ signature: Buffer.alloc(0), kid: 'unsigned' }),
};

/**
 * Custom tokens for the Firebase Auth Emulator (FIREBASE_AUTH_EMULATOR_HOST), as firebase-admin's
 * EmulatedSigner makes them: `alg: "none"`, an empty signature, issued by
 * firebase-auth-emulator@example.com. The emulator signs such tokens in (it verifies no signature,
 * and only warns about signed ones); production Firebase refuses them, and the setting is refused
 * with NODE_ENV=production (src/config/emulator.ts). No key, no credentials: always ready.
 */
export class EmulatedSigner implements CryptoSigner {
  readonly algorithm = 'none';

  isReady(): boolean {
    return true;
  }

  signingKey(): SigningKey {
    return UNSIGNED;
  }
}
