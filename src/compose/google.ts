import type { ConfiguredConfig } from '../config';
import type { AccessTokenSource } from '../google/access-token';
import { GoogleApiClient } from '../google/client';
import { ApplicationDefaultCredentials } from '../google/credentials';
import { FCM_SCOPE, FcmClient } from '../google/fcm';
import { IdentityToolkitClient } from '../google/identity-toolkit';
import { ServiceAccountTokenSource } from '../google/service-account-tokens';
import type { Signing } from './signing';
import type { Runtime } from './verifiers';

/** The Auth Emulator's admin credential: the bearer `owner`, as firebase-admin's AuthHttpClient sends it. */
const EMULATOR_OWNER_TOKEN: AccessTokenSource = {
  getAccessToken: () => Promise.resolve('owner'),
  accountEmail: () => Promise.resolve(undefined),
};

/**
 * The Google client the bridge's own calls (Identity Toolkit) are authorized with: keyless, the
 * signer's ADC tokens (one cache, one refresh); key files, the signing account's own tokens,
 * following the keyring's rotations; with the Auth Emulator, its `owner` bearer.
 */
export function bridgeGoogleClient(config: ConfiguredConfig, signing: Signing, runtime: Runtime): GoogleApiClient {
  const { googleApis } = config;
  const keyFile = signing.keyFile;
  const tokens: AccessTokenSource =
    (config.authEmulator !== undefined ? EMULATOR_OWNER_TOKEN : undefined) ??
    signing.accessTokens ??
    new ServiceAccountTokenSource({
      currentKey: () => keyFile?.currentKey(),
      tokenUrl: googleApis.tokenUrl,
      fetch: runtime.fetch,
      clock: runtime.clock,
      timeoutMs: googleApis.timeoutMs,
    });
  return new GoogleApiClient({ tokens, fetch: runtime.fetch, clock: runtime.clock, timeoutMs: googleApis.timeoutMs });
}

export function identityToolkit(config: ConfiguredConfig, client: GoogleApiClient): IdentityToolkitClient {
  // With the Auth Emulator, its Identity Toolkit (http://<host>/identitytoolkit.googleapis.com), as firebase-admin calls it.
  const baseUrl = config.authEmulator?.identityToolkitUrl ?? config.hardening.identityToolkitUrl;
  return new IdentityToolkitClient(client, { baseUrl, projectId: config.projectId, tenantId: config.tenantId });
}

/**
 * The FCM HTTP v1 client (the configured server's PushSender), with its own access tokens for the
 * firebase.messaging scope: key files, the signing account's (following rotations); keyless, ADC's.
 */
export function fcmClient(config: ConfiguredConfig, signing: Signing, runtime: Runtime): FcmClient {
  const { googleApis, push } = config;
  const keyFile = signing.keyFile;
  const tokens: AccessTokenSource =
    signing.mode === 'keyless'
      ? new ApplicationDefaultCredentials({ config: googleApis, fetch: runtime.fetch, clock: runtime.clock, scopes: [FCM_SCOPE] })
      : new ServiceAccountTokenSource({
          currentKey: () => keyFile?.currentKey(),
          tokenUrl: googleApis.tokenUrl,
          fetch: runtime.fetch,
          clock: runtime.clock,
          timeoutMs: googleApis.timeoutMs,
          scopes: [FCM_SCOPE],
        });
  return new FcmClient({
    tokens,
    fetch: runtime.fetch,
    clock: runtime.clock,
    projectId: config.projectId,
    baseUrl: push.fcm.apiUrl,
    maxRetries: push.fcm.maxRetries,
    timeoutMs: push.fcm.timeoutMs,
    logger: runtime.logger,
  });
}
