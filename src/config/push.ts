import { ConfigError } from '../errors';
import { type Env, int, str, url } from './parse';
import { ConfigProblems } from './problems';
import { bearerSecretProblem } from './secret-strength';

/** Settings of FCM HTTP v1 (src/google/fcm.ts) and the push relay (POST /v1/push/send). */

export const DEFAULT_FCM_API_URL = 'https://fcm.googleapis.com';

export interface FcmSettings {
  /** FCM_API_URL: base of the FCM HTTP v1 API (no trailing slash). */
  apiUrl: string;
  /** FCM_MAX_RETRIES: most retries of one send (QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, 5xx). */
  maxRetries: number;
  /** FCM_TIMEOUT_MS: the one deadline of a send, its access token, retries and waits included. */
  timeoutMs: number;
}

export interface PushSettings {
  fcm: FcmSettings;
  /** PUSH_API_TOKEN: enables POST /v1/push/send for bearers of this secret. */
  pushApiToken?: string;
}

export function fcmSettings(env: Env): FcmSettings {
  const problems = new ConfigProblems();
  const settings: FcmSettings = {
    apiUrl: problems.read(() => url(env, 'FCM_API_URL', DEFAULT_FCM_API_URL).replace(/\/+$/, ''), DEFAULT_FCM_API_URL),
    maxRetries: problems.read(() => int(env, 'FCM_MAX_RETRIES', 3, 0, 10), 3),
    timeoutMs: problems.read(() => int(env, 'FCM_TIMEOUT_MS', 10_000, 100, 120_000), 10_000),
  };
  problems.throwIfAny();
  return settings;
}

export function pushSettings(env: Env): PushSettings {
  const problems = new ConfigProblems();
  const fcm = problems.read(() => fcmSettings(env), fcmSettings({}));
  const pushApiToken = str(env, 'PUSH_API_TOKEN');
  if (env.PUSH_API_TOKEN !== undefined && pushApiToken === undefined) {
    problems.add(new ConfigError('PUSH_API_TOKEN', 'is set but empty (unset it to keep the push relay off)'));
  }
  if (pushApiToken !== undefined) {
    const problem = bearerSecretProblem('PUSH_API_TOKEN', pushApiToken);
    if (problem) problems.add(problem);
    else if (pushApiToken === str(env, 'ADMIN_API_TOKEN')) {
      problems.add(new ConfigError('PUSH_API_TOKEN', 'must differ from ADMIN_API_TOKEN (a push caller must not be able to revoke sessions)'));
    }
  }
  problems.throwIfAny();
  return { fcm, ...(pushApiToken !== undefined ? { pushApiToken } : {}) };
}
