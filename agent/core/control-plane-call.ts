import type { z } from 'zod';
import { type Problem, problemSchema } from '../../protocol/api/problem.ts';
import { AgentError } from './errors.ts';

/** What the control plane answered: the parsed answer, or the problem it refused with. */
export type ControlPlaneAnswer<T> = { ok: true; body: T } | { ok: false; status: number; problem?: Problem };

/**
 * Posts JSON to one of the control plane's agent routes and reads the answer with the API's own
 * schema. A refusal comes back as its problem document (absent when the body was not one); an
 * unreachable server or a success in an unexpected shape throws an {@link AgentError}.
 * @example const answer = await postToControlPlane(server, '/api/agent/join', body, agentGrantSchema);
 */
export async function postToControlPlane<T>(
  serverUrl: string,
  path: string,
  request: unknown,
  schema: z.ZodType<T>,
): Promise<ControlPlaneAnswer<T>> {
  let response: Response;
  try {
    response = await fetch(new URL(path, serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
  } catch (error) {
    throw new AgentError('unreachable', `Cannot reach ${serverUrl}. Check the address and your network.`, {
      cause: error,
    });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const problem = problemSchema.safeParse(body);
    return { ok: false, status: response.status, ...(problem.success ? { problem: problem.data } : {}) };
  }
  const answer = schema.safeParse(body);
  if (!answer.success) {
    const issue = answer.error.issues[0];
    const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'no JSON';
    throw new AgentError(
      'protocol',
      `The server answered in an unexpected format (${where}). Is this a Lifeline server?`,
    );
  }
  return { ok: true, body: answer.data };
}

/** The problem's detail for the end user, or the bare status when the answer was not a problem. */
export function refusalDetail(answer: { status: number; problem?: Problem }): string {
  return answer.problem?.detail ?? `HTTP ${answer.status}`;
}
