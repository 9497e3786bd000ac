import { FakeGoogle, type TestServiceAccount } from './fake-google';
import { FakeIam } from './fake-iam';
import { FakeIdentityToolkit } from './fake-identity-toolkit';

/**
 * What a test of the revocation check or the admin API needs: the fake Google, IAM minting the signing account's
 * access tokens, and an Identity Toolkit that accepts only those tokens.
 */
export interface IdentityToolkitFakes {
  fake: FakeGoogle;
  iam: FakeIam;
  toolkit: FakeIdentityToolkit;
  account: TestServiceAccount;
  close(): Promise<void>;
}

export async function startIdentityToolkitFakes(): Promise<IdentityToolkitFakes> {
  const fake = await FakeGoogle.start();
  const iam = await FakeIam.start(fake);
  const account = fake.createServiceAccount();
  iam.addKey(account.clientEmail, account.key);
  const toolkit = await FakeIdentityToolkit.start(fake.projectId, (token) => iam.issuedTokens.includes(token));
  return {
    fake,
    iam,
    toolkit,
    account,
    close: async () => {
      await Promise.all([fake.close(), iam.close(), toolkit.close()]);
    },
  };
}
