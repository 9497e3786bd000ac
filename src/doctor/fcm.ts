import { fcmClient } from '../compose/google';
import { type Signing, createSigning } from '../compose/signing';
import { PushFailedError } from '../errors';
import { type DoctorCheck, type Verdict, blocked, fail, notApplicable, ok, reasonOf } from './check';
import { captureLogs } from './log-capture';

/** The topic of the doctor's validate_only message: FCM checks it, and delivers nothing. */
export const DOCTOR_FCM_TOPIC = 'firebridge-doctor';

const FIXES: Record<string, string> = {
  sender_id_mismatch: 'the credentials belong to another project than FIREBASE_PROJECT_ID: use a key (or ADC account) of that project',
  third_party_auth_error: 'fix the APNs or web-push credentials in the Firebase console (Project settings → Cloud Messaging)',
  invalid_argument: 'FCM refused the message shape: check FCM_API_URL',
};

/**
 * FCM HTTP v1 accepts a `validate_only` message, sent with the server's own FCM client and credentials
 * (src/compose/google.ts: the signing key's account, or ADC in keyless mode). The message goes to a topic,
 * which FCM validates without any device token (validate_only never delivers), so no test device is needed.
 * This proves the access token, the FCM API being enabled and the account's permission on the project.
 */
export const fcmCheck: DoctorCheck = {
  id: 'fcm',
  name: 'FCM',
  async run({ config, fetch, clock }): Promise<Verdict> {
    if (config.mode === 'local') return notApplicable('local mode: pushes go to the recording fake (GET /local/fcm/messages)');
    const logs = captureLogs();
    const runtime = { logger: logs.logger, clock, fetch };
    let signing: Signing;
    try {
      signing = createSigning(config, runtime);
    } catch (err) {
      return blocked(`not checked: no credentials to send with (${reasonOf(err)}; see "key files")`);
    }
    const client = fcmClient(config, signing, runtime);
    try {
      const { name } = await client.send({ topic: DOCTOR_FCM_TOPIC, data: { doctor: 'validate_only' } }, { validateOnly: true });
      return ok(`FCM accepted a validate_only message for project ${config.projectId} (${name}; nothing delivered)`);
    } catch (err) {
      const reason = err instanceof PushFailedError ? err.reason : undefined;
      return fail(
        `FCM refused a validate_only message for project ${config.projectId}: ${reasonOf(err)}`,
        (reason && FIXES[reason]) ??
          'enable the Firebase Cloud Messaging API for the project and give the account roles/firebasemessaging.admin (or cloudmessaging.messages.create); check FCM_API_URL',
      );
    } finally {
      signing.stop();
    }
  },
};
