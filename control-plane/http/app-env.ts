import type { operators } from '../db/schema.ts';

export type OperatorRow = typeof operators.$inferSelect;

/** Who is making a request: a console login or an API token, both acting as an operator. */
export type Principal =
  | { kind: 'operator'; operator: OperatorRow; loginSessionId: string }
  | { kind: 'api-token'; operator: OperatorRow; tokenId: string; scopes: string[] };

/** Hono environment of the app: what middleware puts on the context. */
export interface AppEnv {
  Variables: {
    principal: Principal;
    /** The client's address (see `clientAddress`), for audit and logs; throttles key it with `throttleKey`. */
    address: string;
  };
}
