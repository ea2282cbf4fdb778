import { resolve } from 'node:path';
import { z } from 'zod';

/** Raised when the environment cannot make a working configuration; the message says what to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface Config {
  /** TCP port of the HTTP and WebSocket server. */
  port: number;
  /** Address to bind; loopback by default so a first start exposes nothing. */
  host: string;
  /** Where the embedded database and generated files live. */
  dataDir: string;
  /** libSQL URL: a local `file:` by default, `libsql://` or `http(s)://` for a server. */
  databaseUrl: string;
  /** Auth token for a remote libSQL server. */
  databaseAuthToken: string | undefined;
  /** The key sealing the server's own secrets in the database; a file in the data directory when unset. */
  masterKey: string | undefined;
  /** The URL operators and agents reach this control plane at; tokens are issued for it. */
  publicUrl: string;
  /** Extra browser origins allowed to open the console's WebSocket (the public URL's origin always is). */
  allowedOrigins: string[];
  /** Password of the first admin account; a random one is printed once when unset. */
  adminPassword: string | undefined;
  adminUsername: string;
  /** Lifetime of a connection code, in milliseconds. */
  codeTtlMs: number;
  /**
   * How long a session waits for a disconnected agent to reconnect, and, after a restart, for the
   * agents of the sessions that were live, in milliseconds.
   */
  agentGraceMs: number;
  /** Lifetime of an operator's console login, in milliseconds. */
  loginTtlMs: number;
  /** Secure flag on cookies; on when the public URL is https. */
  secureCookies: boolean;
  /** How long session recordings are kept, in milliseconds. */
  recordingRetentionMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

const MINUTE_MS = 60_000;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LIFELINE_DATA_DIR: z.string().min(1).default('data'),
  LIFELINE_DATABASE_URL: z.string().optional(),
  LIFELINE_DATABASE_AUTH_TOKEN: z.string().optional(),
  LIFELINE_MASTER_KEY: z.string().optional(),
  LIFELINE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  LIFELINE_ALLOWED_ORIGINS: z.string().optional(),
  LIFELINE_ADMIN_USERNAME: z.string().min(1).max(100).default('admin'),
  LIFELINE_ADMIN_PASSWORD: z
    .string()
    .min(12, 'LIFELINE_ADMIN_PASSWORD must have at least 12 characters')
    .optional(),
  LIFELINE_CODE_TTL_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
  LIFELINE_AGENT_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  LIFELINE_LOGIN_TTL_MINUTES: z.coerce
    .number()
    .positive()
    .max(30 * 24 * 60)
    .default(12 * 60),
  LIFELINE_RECORDING_RETENTION_DAYS: z.coerce
    .number()
    .positive()
    .max(10 * 365)
    .default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Reads the configuration from environment variables, applying the embedded defaults.
 * @throws ConfigError naming the variable to fix.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.LIFELINE_DATA_DIR);
  const publicUrl = (e.LIFELINE_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const allowedOrigins = (e.LIFELINE_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (!URL.canParse(origin))
      throw new ConfigError(`LIFELINE_ALLOWED_ORIGINS: "${origin}" is not an origin URL`);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.LIFELINE_DATABASE_URL ?? `file:${resolve(dataDir, 'lifeline.db')}`,
    databaseAuthToken: e.LIFELINE_DATABASE_AUTH_TOKEN,
    masterKey: e.LIFELINE_MASTER_KEY,
    publicUrl,
    allowedOrigins,
    adminPassword: e.LIFELINE_ADMIN_PASSWORD,
    adminUsername: e.LIFELINE_ADMIN_USERNAME,
    codeTtlMs: e.LIFELINE_CODE_TTL_MINUTES * MINUTE_MS,
    loginTtlMs: e.LIFELINE_LOGIN_TTL_MINUTES * MINUTE_MS,
    agentGraceMs: e.LIFELINE_AGENT_GRACE_SECONDS * 1000,
    secureCookies: publicUrl.startsWith('https:'),
    recordingRetentionMs: e.LIFELINE_RECORDING_RETENTION_DAYS * 24 * 60 * MINUTE_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** The configuration as it may be logged: secrets masked. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@'),
    databaseAuthToken: config.databaseAuthToken ? '***' : undefined,
    adminPassword: config.adminPassword ? '***' : undefined,
  };
}
