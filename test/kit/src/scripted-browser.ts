/** One HTTP answer the scripted browser saw. */
export interface BrowserAnswer {
  status: number;
  location: string | undefined;
  body: string;
  headers: Headers;
}

/**
 * A minimal browser over fetch for OAuth consent tests: keeps cookies per host (no attributes beyond that), follows
 * redirects only within `origin` and stops at the first one elsewhere (a client's redirect URI).
 */
export class ScriptedBrowser {
  private readonly jar = new Map<string, string>();

  constructor(readonly origin: string) {}

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  /** GET, following same-origin redirects; answers the last response (a redirect elsewhere is not followed). */
  async open(url: string): Promise<BrowserAnswer> {
    return this.follow(await this.send(url, { method: 'GET' }));
  }

  /** POST a form, following same-origin redirects. */
  async submit(url: string, form: Record<string, string | string[]>, extraHeaders: Record<string, string> = {}): Promise<BrowserAnswer> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return this.follow(await this.send(url, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...extraHeaders } }));
  }

  private async follow(first: BrowserAnswer): Promise<BrowserAnswer> {
    let a = first;
    for (let i = 0; i < 10 && a.location && new URL(a.location, this.origin).origin === this.origin; i++) {
      a = await this.send(new URL(a.location, this.origin).href, { method: 'GET' });
    }
    return a;
  }

  private async send(url: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<BrowserAnswer> {
    const full = new URL(url, this.origin);
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(full, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    return { status: res.status, location: location && new URL(location, full).href, body: await res.text(), headers: res.headers };
  }
}

/** The value of a hidden or text input in an HTML form. */
export function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`).exec(html);
  return m?.[1]?.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}
