import { type KeyObject, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { KeyFileError } from '../errors';

/** A service-account key in Google's JSON format, with the private key imported once. */
export interface ServiceAccountKey {
  projectId: string;
  clientEmail: string;
  /** The key's ID in IAM; used as the custom token's `kid`. */
  privateKeyId: string;
  privateKey: KeyObject;
  /** Where it was read from (for logs). */
  file: string;
}

/**
 * A PEM can import yet be corrupt (a damaged modulus still parses): every token it signed would
 * then fail. Sign a probe and verify it with the key's own public half before trusting it.
 */
function signsVerifiably(privateKey: KeyObject): boolean {
  try {
    const probe = Buffer.from('firebridge key self-test');
    return verify('sha256', probe, createPublicKey(privateKey), sign('sha256', probe, privateKey));
  } catch {
    return false;
  }
}

function requiredString(doc: Record<string, unknown>, field: string, file: string): string {
  const value = doc[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KeyFileError(file, `"${field}" is missing; this is not a service-account key file`);
  }
  return value;
}

/**
 * Validates a service-account key file's contents completely: JSON, type service_account, the
 * fields Google writes, and a private key that imports as RSA of at least 2048 bits. Error
 * messages name the file and the problem, never the key.
 */
export function parseServiceAccountKey(text: string, file: string): ServiceAccountKey {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyFileError(file, 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new KeyFileError(file, 'is not a JSON object');
  }
  const record = doc as Record<string, unknown>;
  if (record.type !== 'service_account') {
    throw new KeyFileError(file, '"type" is not "service_account"; this is not a service-account key file');
  }
  const projectId = requiredString(record, 'project_id', file);
  const clientEmail = requiredString(record, 'client_email', file);
  const privateKeyId = requiredString(record, 'private_key_id', file);
  const pem = requiredString(record, 'private_key', file);
  if (!/^[^@\s]+@[^@\s]+$/.test(clientEmail)) throw new KeyFileError(file, '"client_email" is not an email address');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeyFileError(file, '"private_key" does not import as a PEM private key (truncated or corrupt?)');
  }
  if (privateKey.asymmetricKeyType !== 'rsa' || (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new KeyFileError(file, '"private_key" must be an RSA key of at least 2048 bits');
  }
  if (!signsVerifiably(privateKey)) {
    throw new KeyFileError(file, '"private_key" is corrupt: a test signature does not verify with its own public key');
  }
  return { projectId, clientEmail, privateKeyId, privateKey, file };
}

/**
 * Whether a service account belongs to the project: its project_id is the project and, for a
 * user-managed account (<name>@<project>.iam.gserviceaccount.com), its email names it too.
 * A custom token signed for another project fails later with a misleading error.
 */
export function belongsToProject(key: ServiceAccountKey, projectId: string): boolean {
  const iamDomain = /@([^@]+)\.iam\.gserviceaccount\.com$/.exec(key.clientEmail);
  // App Engine's default account is <project>@appspot.gserviceaccount.com.
  const appEngine = /^([^@]+)@appspot\.gserviceaccount\.com$/.exec(key.clientEmail);
  return (
    key.projectId === projectId &&
    (iamDomain === null || iamDomain[1] === projectId) &&
    (appEngine === null || appEngine[1] === projectId)
  );
}
