/** Library entry: use firebridge's verifier and middleware in your own express app. Re-exports only. */
export { loadConfig, readEnvironment, type Config } from './config';
export type { FirebaseVerifierOptions } from './config/verifier';
export { createApp, type AppDeps } from './http/app';
export { requireFirebaseAuth, type RequireFirebaseAuthOptions } from './http/require-firebase-auth';
export { FirebaseBearerStrategy } from './http/passport-strategy';
export type { FirebaseTokenVerifier, FirebaseUser } from './auth/firebase-token-verifier';
export { FirebaseIdTokenVerifier } from './auth/firebase-id-token-verifier';
export { GoogleIdTokenVerifier, type GoogleIdentity } from './auth/google-id-token-verifier';
export { uidForGoogleSub } from './auth/uid';
export { KeySetCache } from './jwt/key-set-cache';
export { VerifiedTokenCache } from './auth/verified-token-cache';
export { HttpKeySetSource, StaticKeySetSource } from './jwt/key-set-source';
export { firebaseVerifier } from './compose/verifiers';
export { startServer } from './compose/server';
export { createGoogleVault, type GoogleVaultOptions } from './compose/vault';
export type { GoogleVault, GoogleAccessToken } from './vault/vault';
export * from './errors';
