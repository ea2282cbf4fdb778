import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_EXEC_OUTPUT_BYTES } from '../protocol/index.ts';
import { trustedProxies } from './http/client-address.ts';
import { PING_SECONDS } from './relay/liveness.ts';
import { WRITE_BURST, WRITES_PER_SECOND } from './relay/message-budget.ts';

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
  /**
   * How often the relay pings every socket, in milliseconds; a peer that answers none of two pings
   * in a row and sends nothing is disconnected (so within three intervals).
   */
  pingMs: number;
  /** Lifetime of an operator's console login, in milliseconds. */
  loginTtlMs: number;
  /** Secure flag on cookies; on when the public URL is https. */
  secureCookies: boolean;
  /** How long session recordings are kept, in milliseconds. */
  recordingRetentionMs: number;
  /** Reverse proxies (addresses and CIDRs) whose `X-Forwarded-For` names the client; none by default. */
  trustedProxies: string[];
  /** Largest request body accepted outside file uploads (which stream), in bytes. */
  maxBodyBytes: number;
  /** Most output one command run over the API may return (stdout and stderr together), in bytes. */
  execMaxOutputBytes: number;
  /** Most command output the server holds for all running API commands together, in bytes. */
  execOutputBudgetBytes: number;
  /** Most API commands running at once in one session. */
  execPerSession: number;
  /** A file upload or download over the API with no progress for this long is given up, in milliseconds. */
  transferIdleMs: number;
  /** How long a client has to send a request's headers, in milliseconds. */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests, in milliseconds. */
  keepAliveTimeoutMs: number;
  /** Most open connections (HTTP and WebSocket) from one client address. */
  maxSocketsPerAddress: number;
  /**
   * What one relay connection may send of the messages that make the server write (file and shell
   * requests, chat, consent…): a burst, refilled at `perSecond`. Past it the message is refused
   * (`TOO_FREQUENT`) and the console sends it again.
   */
  relayMessageBudget: { burst: number; perSecond: number };
  /** Bearer token Prometheus sends to read `/metrics`; unset, `/metrics` does not exist. */
  metricsToken: string | undefined;
  /**
   * Whether the server speaks HTTPS itself: `off` (plain http, behind a TLS proxy or on loopback),
   * `self-signed` (a certificate it generates in the data directory on first start), or `files` (the
   * administrator's `LIFELINE_TLS_CERT` and `LIFELINE_TLS_KEY`).
   */
  tls: 'off' | 'self-signed' | 'files';
  /** PEM certificate (chain) served when `tls` is on. */
  tlsCertFile: string | undefined;
  /** PEM private key of that certificate. */
  tlsKeyFile: string | undefined;
  /**
   * With `tls` off behind a TLS-terminating reverse proxy: the PEM certificate that proxy presents, whose
   * key downloaded agents are pinned to, as they are to this server's own key when it serves TLS.
   */
  tlsPinCertFile: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The built console the server serves (`npm run build:console` writes it); dist/console by default. */
  consoleDir: string;
}

/** Where `npm run build:console` writes the console bundle. */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../dist/console/', import.meta.url));

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
  LIFELINE_PING_SECONDS: z.coerce.number().min(0.1).max(300).default(PING_SECONDS),
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
  LIFELINE_TRUSTED_PROXIES: z.string().optional(),
  LIFELINE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  LIFELINE_EXEC_MAX_OUTPUT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_EXEC_OUTPUT_BYTES)
    .default(8 * 1024 * 1024),
  LIFELINE_EXEC_OUTPUT_BUDGET_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024 * 1024),
  LIFELINE_EXEC_PER_SESSION: z.coerce.number().int().min(1).max(1000).default(4),
  LIFELINE_TRANSFER_IDLE_SECONDS: z.coerce.number().positive().max(3600).default(60),
  LIFELINE_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(30),
  LIFELINE_KEEP_ALIVE_SECONDS: z.coerce.number().positive().max(3600).default(5),
  LIFELINE_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(64),
  LIFELINE_RELAY_MESSAGE_BURST: z.coerce.number().int().min(1).max(100_000).default(WRITE_BURST),
  LIFELINE_RELAY_MESSAGES_PER_SECOND: z.coerce.number().positive().max(10_000).default(WRITES_PER_SECOND),
  LIFELINE_METRICS_TOKEN: z
    .string()
    .min(16, 'LIFELINE_METRICS_TOKEN must have at least 16 characters (for example: openssl rand -hex 32)')
    .optional(),
  LIFELINE_TLS: z.enum(['off', 'self-signed']).default('off'),
  LIFELINE_TLS_CERT: z.string().min(1).optional(),
  LIFELINE_TLS_KEY: z.string().min(1).optional(),
  LIFELINE_TLS_PIN_CERT: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIFELINE_CONSOLE_DIR: z.string().min(1).optional(),
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
  const tls = tlsConfig(e, dataDir);
  const scheme = tls.tls === 'off' ? 'http' : 'https';
  const publicUrl = (e.LIFELINE_PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/+$/, '');
  if (tls.tls !== 'off' && !publicUrl.startsWith('https:'))
    throw new ConfigError(
      `LIFELINE_PUBLIC_URL: the server speaks HTTPS (LIFELINE_TLS${tls.tls === 'files' ? '_CERT' : ''}), so its URL starts with https://, not "${describeUrl(publicUrl)}"`,
    );
  if (e.LIFELINE_TLS_PIN_CERT !== undefined) {
    if (tls.tls !== 'off')
      throw new ConfigError(
        'LIFELINE_TLS_PIN_CERT is for a server behind a TLS-terminating proxy; this server speaks TLS itself and agents are pinned to its own key: remove LIFELINE_TLS_PIN_CERT',
      );
    if (!publicUrl.startsWith('https:'))
      throw new ConfigError(
        `LIFELINE_TLS_PIN_CERT: agents reach this server through the proxy's HTTPS, so LIFELINE_PUBLIC_URL starts with https://, not "${describeUrl(publicUrl)}"`,
      );
  }
  const allowedOrigins = (e.LIFELINE_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of allowedOrigins) {
    if (!URL.canParse(origin))
      throw new ConfigError(`LIFELINE_ALLOWED_ORIGINS: "${origin}" is not an origin URL`);
  }
  const proxies = (e.LIFELINE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const { invalid } = trustedProxies(proxies);
  if (invalid.length > 0) {
    throw new ConfigError(
      `LIFELINE_TRUSTED_PROXIES: "${invalid.join('", "')}" is not an address or CIDR (for example 10.0.0.0/8, 2001:db8::/32)`,
    );
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
    pingMs: e.LIFELINE_PING_SECONDS * 1000,
    secureCookies: publicUrl.startsWith('https:'),
    recordingRetentionMs: e.LIFELINE_RECORDING_RETENTION_DAYS * 24 * 60 * MINUTE_MS,
    trustedProxies: proxies,
    maxBodyBytes: e.LIFELINE_MAX_BODY_BYTES,
    execMaxOutputBytes: e.LIFELINE_EXEC_MAX_OUTPUT_BYTES,
    execOutputBudgetBytes: e.LIFELINE_EXEC_OUTPUT_BUDGET_BYTES,
    execPerSession: e.LIFELINE_EXEC_PER_SESSION,
    transferIdleMs: e.LIFELINE_TRANSFER_IDLE_SECONDS * 1000,
    headersTimeoutMs: e.LIFELINE_HEADERS_TIMEOUT_SECONDS * 1000,
    keepAliveTimeoutMs: e.LIFELINE_KEEP_ALIVE_SECONDS * 1000,
    maxSocketsPerAddress: e.LIFELINE_MAX_SOCKETS_PER_ADDRESS,
    relayMessageBudget: {
      burst: e.LIFELINE_RELAY_MESSAGE_BURST,
      perSecond: e.LIFELINE_RELAY_MESSAGES_PER_SECOND,
    },
    metricsToken: e.LIFELINE_METRICS_TOKEN,
    ...tls,
    tlsPinCertFile: e.LIFELINE_TLS_PIN_CERT === undefined ? undefined : resolve(e.LIFELINE_TLS_PIN_CERT),
    logLevel: e.LOG_LEVEL,
    consoleDir: e.LIFELINE_CONSOLE_DIR === undefined ? DEFAULT_CONSOLE_DIR : resolve(e.LIFELINE_CONSOLE_DIR),
  };
}

/** Where the self-signed certificate and its key live, under the data directory. */
const SELF_SIGNED_DIR = 'tls';

function tlsConfig(
  e: z.infer<typeof envSchema>,
  dataDir: string,
): Pick<Config, 'tls' | 'tlsCertFile' | 'tlsKeyFile'> {
  const cert = e.LIFELINE_TLS_CERT;
  const key = e.LIFELINE_TLS_KEY;
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError(
      'LIFELINE_TLS_CERT and LIFELINE_TLS_KEY go together: give both PEM files, or neither',
    );
  if (cert !== undefined && key !== undefined) {
    if (e.LIFELINE_TLS === 'self-signed')
      throw new ConfigError(
        'LIFELINE_TLS=self-signed and LIFELINE_TLS_CERT/LIFELINE_TLS_KEY exclude each other: choose one',
      );
    return { tls: 'files', tlsCertFile: resolve(cert), tlsKeyFile: resolve(key) };
  }
  if (e.LIFELINE_TLS === 'self-signed')
    return {
      tls: 'self-signed',
      tlsCertFile: resolve(dataDir, SELF_SIGNED_DIR, 'cert.pem'),
      tlsKeyFile: resolve(dataDir, SELF_SIGNED_DIR, 'key.pem'),
    };
  return { tls: 'off', tlsCertFile: undefined, tlsKeyFile: undefined };
}

/**
 * A URL as it may be logged: scheme, host, port and path only. The user part and the query are
 * dropped whatever they hold (`libsql://user:password@host`, `file:db?authToken=…`).
 * @example
 * describeUrl('libsql://bob:pw@db.example:8080/main?authToken=x') // 'libsql://db.example:8080/main'
 */
export function describeUrl(url: string): string {
  // `file:` URLs may be relative (`file:data/lifeline.db`), which URL would resolve against `/`.
  if (/^file:/i.test(url)) return url.replace(/[?#].*$/s, '');
  if (!URL.canParse(url)) return `${/^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? ''}… (not a valid URL)`;
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

/**
 * The configuration as it may be logged, by allow-list: every field says what of it is shown, so a
 * field added to Config does not compile until it is decided here. Secrets show only where they come
 * from or whether they are set; URLs only their scheme, host, port and path.
 */
export function describeConfig(config: Config): { [K in keyof Config]: unknown } {
  return {
    port: config.port,
    host: config.host,
    dataDir: config.dataDir,
    databaseUrl: describeUrl(config.databaseUrl),
    databaseAuthToken: config.databaseAuthToken === undefined ? 'unset' : 'set',
    masterKey: config.masterKey === undefined ? 'file in the data directory' : 'LIFELINE_MASTER_KEY',
    publicUrl: describeUrl(config.publicUrl),
    allowedOrigins: config.allowedOrigins.map(describeUrl),
    adminPassword: config.adminPassword === undefined ? 'unset' : 'set',
    adminUsername: config.adminUsername,
    codeTtlMs: config.codeTtlMs,
    agentGraceMs: config.agentGraceMs,
    pingMs: config.pingMs,
    loginTtlMs: config.loginTtlMs,
    secureCookies: config.secureCookies,
    recordingRetentionMs: config.recordingRetentionMs,
    logLevel: config.logLevel,
    trustedProxies: config.trustedProxies,
    maxBodyBytes: config.maxBodyBytes,
    execMaxOutputBytes: config.execMaxOutputBytes,
    execOutputBudgetBytes: config.execOutputBudgetBytes,
    execPerSession: config.execPerSession,
    transferIdleMs: config.transferIdleMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxSocketsPerAddress: config.maxSocketsPerAddress,
    relayMessageBudget: config.relayMessageBudget,
    metricsToken: config.metricsToken === undefined ? 'unset' : 'set',
    // Paths only: the key file's content is never read here.
    tls: config.tls,
    tlsCertFile: config.tlsCertFile,
    tlsKeyFile: config.tlsKeyFile,
    tlsPinCertFile: config.tlsPinCertFile,
    consoleDir: config.consoleDir,
  };
}
