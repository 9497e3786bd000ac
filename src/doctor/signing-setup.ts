import type { Config, ConfiguredConfig } from '../config';
import { type Keyring, type KeyringEntry, hasKeyFiles, loadKeyring } from '../keys/keyring';
import { reasonOf } from './check';

/** How the configured server would sign, decided as src/compose/signing.ts decides it. */
export type SigningSetup =
  | { mode: 'local' }
  | { mode: 'keyless'; config: ConfiguredConfig; serviceAccountEmail: string }
  | { mode: 'key-file'; config: ConfiguredConfig };

export function signingSetup(config: Config): SigningSetup {
  if (config.mode === 'local') return { mode: 'local' };
  if (config.serviceAccountEmail !== undefined && !hasKeyFiles(config.keysDir)) {
    return { mode: 'keyless', config, serviceAccountEmail: config.serviceAccountEmail };
  }
  return { mode: 'key-file', config };
}

/** The keyring as the server would load it at start, or why it cannot be (for checks that need it). */
export function loadServerKeyring(config: ConfiguredConfig): { keyring: Keyring & { active: KeyringEntry } } | { problem: string } {
  try {
    return { keyring: loadKeyring(config.keysDir, config.projectId) };
  } catch (err) {
    return { problem: reasonOf(err) };
  }
}
