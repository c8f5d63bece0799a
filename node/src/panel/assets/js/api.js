/* Capstan panel — api.js
 * HTTP helpers for the Kubernetes API and the panel's own endpoints (session cookie,
 * CSRF header on every non-GET, Kubernetes Status errors, 401 → login page), the pod log
 * stream reader, and Kubernetes quantity parsing/formatting. Defines Capstan.api. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});

  /** An HTTP/API failure; `message` is what the user should read. */
  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.body = body;
    }
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') || '' : '';
  }

  let leaving = false;
  /** The session is gone: go (once) to the login page. */
  function toLogin() {
    if (leaving) return;
    leaving = true;
    window.location.assign('/ui/login');
  }

  /** The user-facing message of an error response (Status `message`, apply `error`, text). */
  function errorMessage(data, text, res) {
    if (data && typeof data === 'object') {
      if (typeof data.message === 'string' && data.message) return data.message;
      if (typeof data.error === 'string' && data.error) return data.error;
    }
    const t = (text || '').trim();
    if (t && t.length < 300 && !t.startsWith('<')) return t;
    return `${res.status} ${res.statusText || 'request failed'}`.trim();
  }

  function headersFor(method, contentType, extra) {
    const headers = { Accept: 'application/json', ...(extra || {}) };
    if (contentType) headers['Content-Type'] = contentType;
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
    return headers;
  }

  async function send(method, path, opts = {}) {
    let body;
    let contentType = null;
    if (opts.body !== undefined) {
      contentType = opts.contentType || 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    try {
      return await fetch(path, {
        method,
        headers: headersFor(method, contentType, opts.headers),
        body,
        credentials: 'same-origin',
        cache: 'no-store',
        signal: opts.signal,
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError('Cannot reach the master; is it running?', 0, null);
    }
  }

  /** A JSON request; resolves to the parsed body (null when empty), rejects with ApiError. */
  async function request(method, path, opts = {}) {
    const res = await send(method, path, opts);
    if (res.status === 401) {
      toLogin();
      throw new ApiError('Your session has expired; please log in again.', 401, null);
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!res.ok) throw new ApiError(errorMessage(data, text, res), res.status, data);
    return data;
  }

  const MERGE = 'application/merge-patch+json';
  const enc = encodeURIComponent;

  const paths = {
    node: (name) => `/api/v1/nodes/${enc(name)}`,
    pods: (ns) => (ns ? `/api/v1/namespaces/${enc(ns)}/pods` : '/api/v1/pods'),
    pod: (ns, name) => `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`,
    deployment: (ns, name) => `/apis/apps/v1/namespaces/${enc(ns)}/deployments/${enc(name)}`,
    replicasets: (ns) => `/apis/apps/v1/namespaces/${enc(ns)}/replicasets`,
  };

  /**
   * Follows a container's log: calls onText(chunk) for each decoded piece of text and
   * resolves when the stream ends (rejects with ApiError, or AbortError when aborted).
   */
  async function streamLog({ ns, name, container, tailLines = 200, signal, onText }) {
    const q = new URLSearchParams({ follow: 'true', tailLines: String(tailLines) });
    if (container) q.set('container', container);
    const res = await send('GET', `${paths.pod(ns, name)}/log?${q}`, {
      signal,
      headers: { Accept: 'text/plain, */*' },
    });
    if (res.status === 401) {
      toLogin();
      throw new ApiError('Your session has expired; please log in again.', 401, null);
    }
    if (!res.ok) {
      const text = await res.text();
      let data = null;
      try { data = JSON.parse(text); } catch (_) { data = null; }
      throw new ApiError(errorMessage(data, text, res), res.status, data);
    }
    if (!res.body) {
      onText(await res.text());
      return;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) onText(text);
    }
    const rest = decoder.decode();
    if (rest) onText(rest);
  }

  /* ---- Kubernetes quantities ---------------------------------------------------- */

  const SUFFIX = {
    n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

  /** A quantity ("100m", "1.5", "128Mi", "1e3", 2) in base units; NaN when malformed. */
  function parseQuantity(q) {
    if (typeof q === 'number') return q;
    if (q === null || q === undefined) return NaN;
    const m = QUANTITY.exec(String(q).trim());
    if (!m) return NaN;
    const n = parseFloat(m[1]);
    if (m[2]) return n * 10 ** parseInt(m[2].slice(1), 10);
    return n * SUFFIX[m[3] || ''];
  }

  /** Rounds up like Quantity.MilliValue()/Value(), forgiving float noise. */
  const ceil = (x) => Math.ceil(x - 1e-6);

  /** CPU quantity → millicores (0 when missing or malformed). */
  function parseCpuMillis(q) {
    const v = parseQuantity(q);
    return Number.isFinite(v) ? Math.max(0, ceil(v * 1000)) : 0;
  }

  /** Memory quantity → bytes (0 when missing or malformed). */
  function parseBytes(q) {
    const v = parseQuantity(q);
    return Number.isFinite(v) ? Math.max(0, ceil(v)) : 0;
  }

  const trim = (x, digits) => String(Number(x.toFixed(digits)));

  /** 250 → "250m", 1000 → "1 core", 1250 → "1.25 cores". */
  function formatCpu(millis) {
    if (!Number.isFinite(millis)) return '—';
    if (Math.abs(millis) < 1000) return `${Math.round(millis)}m`;
    const cores = millis / 1000;
    const s = trim(cores, cores < 10 ? 2 : 1);
    return `${s} ${s === '1' ? 'core' : 'cores'}`;
  }

  /** 536870912 → "512 MiB", 1610612736 → "1.5 GiB". */
  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    let v = bytes;
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) {
      v /= 1024;
      i += 1;
    }
    return `${i === 0 ? Math.round(v) : trim(v, v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
  }

  C.api = {
    ApiError,
    csrfToken,
    toLogin,
    request,
    paths,
    MERGE,
    get: (path, opts) => request('GET', path, opts),
    put: (path, body) => request('PUT', path, { body }),
    del: (path) => request('DELETE', path),
    /** JSON merge patch (application/merge-patch+json). */
    patch: (path, body) => request('PATCH', path, { body, contentType: MERGE }),
    /** POST /ui/api/apply; resolves to {results} or rejects with ApiError whose body has causes. */
    apply: (yaml) => request('POST', '/ui/api/apply', { body: { yaml } }),
    /** POST /ui/logout (any failure still ends at the login page). */
    async logout() {
      try {
        await send('POST', '/ui/logout');
      } finally {
        toLogin();
      }
    },
    streamLog,
    parseQuantity,
    parseCpuMillis,
    parseBytes,
    formatCpu,
    formatBytes,
  };
})();
