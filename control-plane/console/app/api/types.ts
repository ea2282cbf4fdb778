/** The signed-in help-desk operator, as `GET /api/auth/me` returns it. */
export interface Operator {
  id: string;
  username: string;
  name: string;
  role: string;
}

/** What the device reported about itself when it registered. */
export interface AgentView {
  name: string;
  version: string;
  hostname?: string;
  os?: string;
  user?: string;
  screen?: { width: number; height: number };
}

/** A session as the HTTP API lists it. */
export interface SessionView {
  id: string;
  status: 'waiting' | 'active' | 'ended';
  createdAt: string;
  endedAt: string | null;
  endReason: string | null;
  agent: AgentView | null;
}

/** Where and how to reach the relay for one session. The token only ever travels in `hello`. */
export interface RelayGrant {
  url: string;
  token: string;
}

/** The answer to redeeming a code or rejoining a session. */
export interface SessionGrant {
  session: SessionView;
  relay: RelayGrant;
}

/** One page of `GET /api/sessions`. */
export interface SessionPage {
  items: SessionView[];
  nextCursor: string | null;
}
