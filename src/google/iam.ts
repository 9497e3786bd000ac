import type { FetchFn } from '../jwt/key-set-source';
import type { AccessTokenSource } from './adc';
import { GoogleApiError, callGoogleJson } from './google-http';

export interface IamClientOptions {
  /** Base of the IAM API (IAM_API_URL), e.g. https://iam.googleapis.com. */
  baseUrl: string;
  tokens: AccessTokenSource;
  fetch: FetchFn;
  timeoutMs: number;
}

export interface CreatedKey {
  /** The new key's ID (private_key_id). */
  kid: string;
  /** The key file in Google's JSON format. Secret: write it 0600, never log it. */
  keyFileJson: string;
}

/** The IAM API's service-account key methods (projects.serviceAccounts.keys.create / delete). */
export class IamClient {
  constructor(private readonly options: IamClientOptions) {}

  private keysUrl(email: string, projectId: string): string {
    return `${this.options.baseUrl}/v1/projects/${encodeURIComponent(projectId)}/serviceAccounts/${encodeURIComponent(email)}/keys`;
  }

  private async headers(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.options.tokens.getAccessToken()}`, 'content-type': 'application/json' };
  }

  /** Creates a key (RSA 2048, Google's JSON key file format). projectId "-" lets IAM infer it. */
  async createKey(email: string, projectId = '-'): Promise<CreatedKey> {
    const body = await callGoogleJson(
      this.options.fetch,
      'IAM keys.create',
      this.keysUrl(email, projectId),
      {
        method: 'POST',
        headers: await this.headers(),
        body: JSON.stringify({ privateKeyType: 'TYPE_GOOGLE_CREDENTIALS_FILE', keyAlgorithm: 'KEY_ALG_RSA_2048' }),
      },
      this.options.timeoutMs,
    );
    const name = typeof body.name === 'string' ? body.name : '';
    const kid = name.split('/').pop() ?? '';
    if (typeof body.privateKeyData !== 'string' || body.privateKeyData === '' || kid === '') {
      throw new GoogleApiError('IAM keys.create: the response holds no key (name / privateKeyData missing)');
    }
    return { kid, keyFileJson: Buffer.from(body.privateKeyData, 'base64').toString('utf8') };
  }

  async deleteKey(email: string, kid: string, projectId = '-'): Promise<void> {
    await callGoogleJson(
      this.options.fetch,
      'IAM keys.delete',
      `${this.keysUrl(email, projectId)}/${encodeURIComponent(kid)}`,
      { method: 'DELETE', headers: await this.headers() },
      this.options.timeoutMs,
    );
  }
}
