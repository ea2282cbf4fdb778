import { html } from 'hono/html';

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

interface Document {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** The reference page's stylesheet, served at `/docs.css` (inline styles would break the CSP). */
export const API_REFERENCE_CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1b2330}
h1{margin-bottom:0}h2{margin-top:2.2rem;border-bottom:1px solid #d8dee8;text-transform:capitalize}
.op{border:1px solid #d8dee8;border-radius:8px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.2rem;font:600 12px monospace;text-transform:uppercase;color:#fff;border-radius:4px;padding:2px 6px;text-align:center}
.get{background:#2f6fde}.post{background:#1c8a4b}.put,.patch{background:#b7791f}.delete{background:#c53030}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f6fa;padding:.6rem;border-radius:6px;overflow:auto;max-height:18rem}
details summary{cursor:pointer;color:#44506a}.muted{color:#66708a}`;

/**
 * A readable reference of the API, rendered on the server from the OpenAPI document (no scripts, so
 * it works under the console's strict Content-Security-Policy and without internet access).
 */
export function renderApiReference(doc: Document): string {
  const byTag = new Map<string, { path: string; method: string; op: Operation }[]>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), { path, method, op }]);
    }
  }
  const sections = [...byTag.entries()].map(
    ([tag, ops]) => html`<h2>${tag}</h2>
      ${ops.map(
        ({ path, method, op }) => html`<div class="op">
          <span class="m ${method}">${method}</span> <code>/api${path.startsWith('/api') ? path.slice(4) : path}</code>
          <div>${op.summary ?? ''}</div>
          <div class="muted">${op.security?.length ? `auth: ${op.security.map((s) => Object.keys(s).join('+')).join(' or ')}` : 'no authentication'}</div>
          ${
            op.parameters?.length
              ? html`<div>parameters: ${op.parameters.map((p) => html`<code>${p.name}</code> (${p.in}${p.required ? ', required' : ''}) `)}</div>`
              : ''
          }
          ${
            op.requestBody?.content?.['application/json']?.schema
              ? html`<details><summary>request body</summary><pre>${JSON.stringify(op.requestBody.content['application/json'].schema, null, 2)}</pre></details>`
              : ''
          }
          <div class="muted">responses: ${Object.entries(op.responses ?? {})
            .map(([status, r]) => `${status} ${r.description ?? ''}`)
            .join(' · ')}</div>
        </div>`,
      )}`,
  );
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${doc.info.title} — API reference</title>
    <link rel="stylesheet" href="/docs.css"></head><body>
    <h1>${doc.info.title} API</h1><p class="muted">version ${doc.info.version} · machine-readable: <a href="/openapi.json">/openapi.json</a></p>
    <p>${doc.info.description ?? ''}</p>
    ${sections}
    <h2>schemas</h2>
    ${Object.entries(doc.components?.schemas ?? {}).map(
      ([name, schema]) =>
        html`<details><summary><code>${name}</code></summary><pre>${JSON.stringify(schema, null, 2)}</pre></details>`,
    )}
    </body></html>`.toString();
}
