/* Capstan panel — app.js (loaded last)
 * Hash router (#/overview, #/nodes, #/workloads, #/pods, #/pods/NS/NAME, #/events, #/apply),
 * the render loop (live re-renders debounced with requestAnimationFrame and morphed into
 * <main id="view"> so focus/typing/scroll survive), delegated view events, the connection
 * banner, session expiry and logout. Defines Capstan.app.
 *
 * A view (Capstan.views.NAME) is {title, render(ctx) → nodes, mount?(root, ctx),
 * update?(root, ctx), unmount?(), actions?: {NAME(button, ctx, event)}, onInput?, onChange?,
 * onSubmit?, onKeydown? (event, ctx), static?, watch?: ['pods', 'events', …, 'sample'] (what
 * re-renders it; default everything)}; ctx = {name, path, params, query}. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { ui, state } = C;
  const { h } = ui;

  const ROUTES = [
    { re: /^\/overview$/, view: 'overview', nav: 'overview' },
    { re: /^\/nodes$/, view: 'nodes', nav: 'nodes' },
    { re: /^\/workloads$/, view: 'workloads', nav: 'workloads' },
    { re: /^\/pods$/, view: 'pods', nav: 'pods' },
    { re: /^\/pods\/([^/?]+)\/([^/?]+)$/, view: 'pod', nav: 'pods', params: ['ns', 'name'] },
    { re: /^\/events$/, view: 'events', nav: 'events' },
    { re: /^\/apply$/, view: 'apply', nav: 'apply' },
  ];

  const notFound = {
    title: 'Not found',
    static: true,
    render: (ctx) => h('section', { class: 'panel' },
      h('h1', null, 'Page not found'),
      h('p', null, 'There is no page at ', h('code', null, `#${ctx.path}`), '. ',
        h('a', { href: '#/overview' }, 'Go to the overview'), '.')),
  };

  const root = document.getElementById('view');
  let current = null; // {view, ctx, route}
  let frame = 0;
  let pending = false;

  function parseHash() {
    const raw = window.location.hash.replace(/^#/, '');
    const i = raw.indexOf('?');
    const path = (i < 0 ? raw : raw.slice(0, i)) || '/overview';
    const query = Object.fromEntries(new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)));
    for (const route of ROUTES) {
      const m = route.re.exec(path);
      if (!m) continue;
      const params = {};
      (route.params || []).forEach((p, j) => {
        try { params[p] = decodeURIComponent(m[j + 1]); } catch (_) { params[p] = m[j + 1]; }
      });
      return { route, ctx: { name: route.view, path, params, query } };
    }
    return { route: null, ctx: { name: 'notfound', path, params: {}, query } };
  }

  function markNav(section) {
    for (const a of document.querySelectorAll('nav[aria-label="Main"] a')) {
      if (a.getAttribute('data-nav') === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  function renderNow(first) {
    frame = 0;
    if (!current) return;
    if (!first && document.querySelector('dialog[open]')) {
      pending = true; // re-render once the dialog closes
      return;
    }
    pending = false;
    const { view, ctx } = current;
    let content;
    try {
      content = view.render(ctx);
    } catch (e) {
      content = h('p', { class: 'error-box', role: 'alert' }, `This page failed to render: ${ui.errorText(e)}`);
      setTimeout(() => { throw e; });
    }
    // Views may leave holes (null, false) for parts they do not show: drop them, as h() does.
    if (first) root.replaceChildren(...[content].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false && n !== true));
    else ui.morphInto(root, content);
    if (first && view.mount) view.mount(root, ctx);
    if (view.update) view.update(root, ctx);
  }

  /** Schedules a re-render of the current view on the next animation frame. */
  function schedule() {
    if (!frame) frame = window.requestAnimationFrame(() => renderNow(false));
  }

  function navigate(initial) {
    const { route, ctx } = parseHash();
    if (!window.location.hash || window.location.hash === '#' || window.location.hash === '#/') {
      window.history.replaceState(null, '', '#/overview');
    }
    if (current && current.view.unmount) current.view.unmount();
    const view = route ? C.views[route.view] : notFound;
    current = { view, ctx, route };
    markNav(route ? route.nav : null);
    document.title = `${view.title} · Capstan`;
    if (frame) { window.cancelAnimationFrame(frame); frame = 0; }
    renderNow(true);
    if (!initial) {
      root.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }

  /** Replaces the current page's query (#/pods?ns=…) without a navigation; re-renders. */
  function setQuery(query) {
    if (!current) return;
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const qs = q.toString();
    window.history.replaceState(null, '', `#${current.ctx.path}${qs ? `?${qs}` : ''}`);
    current.ctx.query = Object.fromEntries(q);
    schedule();
  }

  /* ---- delegated events inside <main id="view"> ---------------------------------- */

  root.addEventListener('click', (e) => {
    const el = e.target.closest('[data-action]');
    if (!el || !root.contains(el) || !current) return;
    const fn = current.view.actions && current.view.actions[el.getAttribute('data-action')];
    if (!fn) return;
    e.preventDefault();
    fn(el, current.ctx, e);
  });
  for (const [type, hook] of [['input', 'onInput'], ['change', 'onChange'], ['submit', 'onSubmit'], ['keydown', 'onKeydown']]) {
    root.addEventListener(type, (e) => {
      if (current && current.view[hook]) current.view[hook](e, current.ctx);
    });
  }
  // A closed dialog may have held back a re-render.
  document.addEventListener('close', () => { if (pending) schedule(); }, true);

  /* ---- header: connection banner, session expiry, logout ------------------------- */

  const banner = document.getElementById('conn-banner');
  function showConnection() {
    banner.hidden = state.connected;
    banner.textContent = state.synced ? 'Reconnecting to the master…' : 'Connecting to the master…';
  }

  function showExpiry() {
    const el = document.getElementById('session-expiry');
    if (!el) return;
    const raw = el.getAttribute('datetime') || el.textContent.trim();
    const t = Date.parse(raw);
    if (!Number.isFinite(t)) {
      if (el.parentElement) el.parentElement.hidden = true;
      return;
    }
    const d = new Date(t);
    const sameDay = d.toDateString() === new Date().toDateString();
    el.setAttribute('datetime', raw);
    el.setAttribute('title', ui.formatTime(raw));
    el.textContent = sameDay ? ui.formatTime(raw).slice(11, 16) : ui.formatTime(raw).slice(0, 16);
    // At expiry ask the server (clocks may differ): a 401 sends us to the login page.
    const wait = t - Date.now() + 1000;
    if (wait < 2 ** 31 - 1) setTimeout(() => { C.api.get('/api/v1').catch(() => {}); }, Math.max(wait, 0));
  }

  // The skip link must not change the route.
  const skip = document.querySelector('.skip-link');
  if (skip) skip.addEventListener('click', (e) => { e.preventDefault(); root.focus(); });

  const logout = document.getElementById('logout');
  if (logout) logout.addEventListener('click', () => ui.busy(logout, () => C.api.logout()));

  /* ---- start ---------------------------------------------------------------------- */

  state.subscribe((reason, kind) => {
    if (reason === 'connection' || reason === 'snapshot') showConnection();
    if (!current || current.view.static) return;
    const watch = current.view.watch;
    if (watch && reason === 'change' && !watch.includes(kind)) return;
    if (watch && reason === 'sample' && !watch.includes('sample')) return;
    schedule();
  });
  // Ages ("3s") move with the clock.
  setInterval(() => {
    if (current && !current.view.static && !document.hidden) ui.refreshAges(root);
  }, 1000);
  window.addEventListener('hashchange', () => navigate(false));

  C.app = {
    schedule,
    setQuery,
    navigate: (hash) => { window.location.hash = hash; },
    current: () => current,
  };

  showExpiry();
  showConnection();
  navigate(true);
  state.connect();
})();
