/** The consent pages: plain HTML, no script, every value escaped. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Headers of every consent page: never framed, never cached, no script at all. */
export const CONSENT_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
} as const;

export interface ClientSummary {
  name: string;
  /** Where the client lives: the host of its metadata document URL, or of its redirect URI. */
  host: string;
  clientId: string;
  redirectUri: string;
  /** `metadata-document` or `registered`. */
  kind: string;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}fieldset{border:1px solid #ccc;margin:1rem 0}.who{background:#f4f4f4;padding:.5rem 1rem}.err{color:#a00}button{font-size:1rem;margin-right:1rem}</style></head>
<body>${body}</body></html>`;
}

function clientBlock(c: ClientSummary, scopesAsked: readonly string[]): string {
  return `<div class="who"><p><strong id="client-name">${escapeHtml(c.name)}</strong> at <strong id="client-host">${escapeHtml(c.host)}</strong> asks to act as a planner on this relay.</p>
<p>Client id: <code>${escapeHtml(c.clientId)}</code> (${escapeHtml(c.kind)})<br>Returns to: <code>${escapeHtml(c.redirectUri)}</code></p>
<p>Scopes asked: <code id="scopes-asked">${escapeHtml(scopesAsked.join(' ') || '(none)')}</code></p></div>`;
}

export function signInPage(o: { uid: string; client: ClientSummary; scopesAsked: readonly string[]; csrf: string; error?: string }): string {
  return page(
    'Sign in to approve',
    `<h1>Sign in to approve an MCP client</h1>${clientBlock(o.client, o.scopesAsked)}
${o.error ? `<p class="err" id="error">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="/oauth/consent/${encodeURIComponent(o.uid)}/sign-in">
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
<p><label>Admin name <input name="name" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit" id="sign-in">Sign in</button></p></form>`,
  );
}

export interface ConsentChoices {
  orgs: readonly { id: string; name: string; instances: readonly { id: string; name: string }[] }[];
  /** Scopes asked that this admin may grant (preselected), and those asked that it may not. */
  grantable: readonly string[];
  refused: readonly string[];
}

export function consentPage(o: { uid: string; client: ClientSummary; scopesAsked: readonly string[]; csrf: string; adminName: string; choices: ConsentChoices; error?: string }): string {
  const orgs = o.choices.orgs
    .map((org, i) => `<p><label><input type="radio" name="org" value="${escapeHtml(org.id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(org.name)} <code>${escapeHtml(org.id)}</code></label></p>${org.instances
      .map((ins) => `<p style="margin-left:2rem"><label><input type="checkbox" name="instance" value="${escapeHtml(ins.id)}"> only ${escapeHtml(ins.name)} <code>${escapeHtml(ins.id)}</code></label></p>`)
      .join('')}`)
    .join('');
  const scopes = o.choices.grantable.map((s) => `<p><label><input type="checkbox" name="scope" value="${escapeHtml(s)}" checked> ${escapeHtml(s)}</label></p>`).join('');
  const refused = o.choices.refused.length > 0 ? `<p>Not yours to grant: <code>${escapeHtml(o.choices.refused.join(' '))}</code></p>` : '';
  return page(
    'Approve an MCP client',
    `<h1>Approve an MCP client</h1>${clientBlock(o.client, o.scopesAsked)}<p>Signed in as <strong id="admin-name">${escapeHtml(o.adminName)}</strong>.</p>
${o.error ? `<p class="err" id="error">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="/oauth/consent/${encodeURIComponent(o.uid)}/decide">
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
<fieldset><legend>Org (and, optionally, only some of its instances)</legend>${orgs}</fieldset>
<fieldset><legend>Scopes</legend>${scopes || '<p>None of the scopes asked are yours to grant.</p>'}${refused}</fieldset>
<p><button type="submit" name="decision" value="approve" id="approve">Approve</button><button type="submit" name="decision" value="deny" id="deny">Deny</button></p></form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p>`);
}
