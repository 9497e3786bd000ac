import { GoogleApiError } from '../errors';
import type { GoogleApiClient } from './client';

export interface CreatedKey {
  /** The new key's ID (private_key_id). */
  kid: string;
  /** The key file in Google's JSON format. Secret: write it 0600, never log it. */
  keyFileJson: string;
}

/** The IAM API's service-account key methods (projects.serviceAccounts.keys.create / delete). */
export class IamClient {
  constructor(
    private readonly client: GoogleApiClient,
    /** Base of the IAM API (IAM_API_URL), e.g. https://iam.googleapis.com. */
    private readonly baseUrl: string,
  ) {}

  private keysUrl(email: string, projectId: string): string {
    return `${this.baseUrl}/v1/projects/${encodeURIComponent(projectId)}/serviceAccounts/${encodeURIComponent(email)}/keys`;
  }

  /** Creates a key (RSA 2048, Google's JSON key file format). projectId "-" lets IAM infer it. Sent once: a create is not repeated. */
  async createKey(email: string, projectId = '-'): Promise<CreatedKey> {
    const body = await this.client.call('iam', 'IAM keys.create', this.keysUrl(email, projectId), {
      method: 'POST',
      body: { privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', keyAlgorithm: 'KEY_ALG_RSA_2048' },
      repeat: 'once',
    });
    const name = typeof body.name === 'string' ? body.name : '';
    const kid = name.split('/').pop() ?? '';
    if (typeof body.privateKeyData !== 'string' || body.privateKeyData === '' || kid === '') {
      throw new GoogleApiError('IAM keys.create: the response holds no key (name / privateKeyData missing)');
    }
    return { kid, keyFileJson: Buffer.from(body.privateKeyData, 'base64').toString('utf8') };
  }

  async deleteKey(email: string, kid: string, projectId = '-'): Promise<void> {
    await this.client.call('iam', 'IAM keys.delete', `${this.keysUrl(email, projectId)}/${encodeURIComponent(kid)}`, {
      method: 'DELETE',
      repeat: 'once',
    });
  }
}
