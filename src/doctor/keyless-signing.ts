import { GoogleApiClient } from '../google/client';
import { ApplicationDefaultCredentials } from '../google/credentials';
import { IamSigner } from '../google/iam-signer';
import { type DoctorCheck, type Verdict, fail, notApplicable, ok, reasonOf } from './check';
import { captureLogs } from './log-capture';
import { signingSetup } from './signing-setup';

const PROBE = Buffer.from('firebridge doctor: keyless signing probe');

/**
 * Keyless mode (SERVICE_ACCOUNT_EMAIL, no key file in KEYS_DIR): Application Default Credentials give an
 * access token, and IAM Credentials signBlob signs a probe as the account, with the server's own signer
 * (src/google/iam-signer.ts) and client (one deadline: GOOGLE_API_TIMEOUT_MS).
 */
export const keylessSigningCheck: DoctorCheck = {
  id: 'keyless-signing',
  name: 'keyless signing',
  async run({ config, fetch, clock }): Promise<Verdict> {
    const setup = signingSetup(config);
    if (setup.mode === 'local') return notApplicable('local mode: throwaway keys');
    if (setup.mode === 'key-file') return notApplicable('key-file mode: KEYS_DIR holds the signing key');
    const { googleApis } = setup.config;
    const email = setup.serviceAccountEmail;
    const tokens = new ApplicationDefaultCredentials({ config: googleApis, fetch, clock });
    let credentials: string;
    try {
      credentials = tokens.describe();
      await tokens.getAccessToken();
    } catch (err) {
      return fail(
        `no access token from Application Default Credentials: ${reasonOf(err)}`,
        'on Google Cloud, attach a service account to the workload; elsewhere set GOOGLE_APPLICATION_CREDENTIALS (or `gcloud auth application-default login`)',
      );
    }
    const logs = captureLogs();
    const signer = new IamSigner({
      serviceAccountEmail: email,
      baseUrl: googleApis.iamCredentialsUrl,
      client: new GoogleApiClient({ tokens, fetch, clock, timeoutMs: googleApis.timeoutMs }),
      warmUp: () => tokens.getAccessToken(),
      clock,
      logger: logs.logger,
    });
    try {
      await signer.signingKey().sign(PROBE);
    } catch (err) {
      const reason = logs.reasons().join('; ') || reasonOf(err);
      return fail(
        `signBlob as ${email} failed (credentials: ${credentials}): ${reason}`,
        `grant the credentials' account roles/iam.serviceAccountTokenCreator on ${email}, and enable the IAM Service Account Credentials API`,
      );
    }
    return ok(`${credentials} got an access token, and IAM Credentials signBlob signs as ${email}`);
  },
};
