import { z } from 'zod';
import { ROLES } from '../policy.ts';
import { SCOPES } from '../scopes.ts';

/** An operator account as the API shows it: never the password hash or the TOTP secret. */
export const operatorSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    organisationId: z.string(),
    disabled: z.boolean(),
    totpEnabled: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'Operator' });

export type Operator = z.infer<typeof operatorSchema>;

/** `POST /api/auth/login`'s body. */
export const loginRequestSchema = z.object({
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(1000),
  totp: z.string().max(10).optional().meta({ description: 'The 6-digit code, when the second factor is on' }),
});

export type LoginRequest = z.infer<typeof loginRequestSchema>;

/** `POST /api/auth/login`: who logged in, what they may do, and when the login expires. */
export const loginResultSchema = z.object({
  operator: operatorSchema,
  scopes: z.array(z.string()),
  expiresAt: z.string(),
});

export type LoginResult = z.infer<typeof loginResultSchema>;

/** `GET /api/auth/me`: who is signed in (a console login or an API token) and what they may do. */
export const identitySchema = z.object({
  operator: operatorSchema,
  via: z.enum(['operator', 'api-token']),
  scopes: z.array(z.string()),
});

export type Identity = z.infer<typeof identitySchema>;

/** `POST /api/auth/totp/setup`: the pending secret for an authenticator app. */
export const totpSetupSchema = z.object({ secret: z.string(), uri: z.string() });

export type TotpSetup = z.infer<typeof totpSetupSchema>;

const passwordSchema = z.string().min(12, 'Passwords need at least 12 characters').max(1000);

/** `POST /api/operators`'s body. */
export const createOperatorSchema = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\w.@-]+$/, 'letters, digits, . _ - @ only'),
  name: z.string().min(1).max(200),
  password: passwordSchema,
  role: z.enum(ROLES),
  organisationId: z.string().max(64),
});

export type CreateOperator = z.infer<typeof createOperatorSchema>;

/** `PATCH /api/operators/{id}`'s body: only the fields to change. */
export const updateOperatorSchema = z.object({
  name: z.string().min(1).max(200).optional(),
  role: z.enum(ROLES).optional(),
  password: passwordSchema.optional(),
  organisationId: z.string().max(64).optional(),
  disabled: z.boolean().optional(),
  resetSecondFactor: z.literal(true).optional().meta({
    description: "Turn off the operator's second factor (a lost phone); they set it up again",
  }),
});

export type UpdateOperator = z.infer<typeof updateOperatorSchema>;

/** An API token as listed; the secret itself is only in the answer to creating it. */
export const apiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    operatorId: z.string(),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });

export type ApiToken = z.infer<typeof apiTokenSchema>;

/** `POST /api/tokens`: the token with its secret, shown this once. */
export const newApiTokenSchema = apiTokenSchema.and(z.object({ token: z.string() }));

export type NewApiToken = z.infer<typeof newApiTokenSchema>;

/** `POST /api/tokens`'s body. */
export const createApiTokenSchema = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1),
  expiresInDays: z.number().int().positive().max(366).default(90),
});

export type CreateApiToken = z.input<typeof createApiTokenSchema>;
