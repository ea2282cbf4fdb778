import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.ts';

/** The master key's length, in bytes. */
export const MASTER_KEY_BYTES = 32;
/** Where the generated master key is kept, inside the data directory. */
export const MASTER_KEY_FILE = 'master.key';

/**
 * The key that seals the control plane's own secrets (signing keys, the connection-code HMAC key)
 * before they are written to the database, so a copy of the database alone cannot forge tokens or
 * test codes offline. It is `LIFELINE_MASTER_KEY` when set (every node of a multi-node control plane
 * must share it), otherwise a file in the data directory, generated with mode 0600 on first start.
 */
export interface MasterKey {
  /** A 32-byte key for one purpose, derived with HKDF-SHA256 so no two uses share a key. */
  derive(purpose: string): Buffer;
  /** Where it came from, for the start-up log (never the key itself). */
  source: 'environment' | 'file';
}

/** Parses a base64url master key, refusing anything that is not exactly 32 bytes. */
export function parseMasterKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64url') !== text.trim()) {
    throw new ConfigError(
      `${where} must hold a ${MASTER_KEY_BYTES}-byte key in base64url (43 characters); make one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return key;
}

/** Loads the master key from the environment or the data directory, generating the file once. */
export function loadMasterKey(config: { dataDir: string; masterKey?: string | undefined }): MasterKey {
  const key = config.masterKey
    ? parseMasterKey(config.masterKey, 'LIFELINE_MASTER_KEY')
    : readOrCreateKeyFile(join(config.dataDir, MASTER_KEY_FILE));
  return {
    source: config.masterKey ? 'environment' : 'file',
    derive: (purpose) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `lifeline/${purpose}`, 32)),
  };
}

function readOrCreateKeyFile(path: string): Buffer {
  try {
    return parseMasterKey(readFileSync(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(join(path, '..'), { recursive: true });
  try {
    // 'wx': two nodes starting at once on one data directory must not each write their own key.
    writeFileSync(path, `${randomBytes(MASTER_KEY_BYTES).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parseMasterKey(readFileSync(path, 'utf8'), path);
}
