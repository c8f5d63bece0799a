/* Capstan panel — ui.js
 * DOM building without innerHTML (h/svg), a small keyed DOM "morph" so live re-renders keep
 * focus, typed input values, open <details> and scroll position, plus shared widgets: toast,
 * confirm dialog, busy buttons, tables, badges and kubectl-style ages. Defines Capstan.ui. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const SVG_NS = 'http://www.w3.org/2000/svg';

  function append(el, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false || c === true) continue;
      if (Array.isArray(c)) append(el, c);
      else if (c instanceof Node) el.appendChild(c);
      else el.appendChild(document.createTextNode(String(c)));
    }
    return el;
  }

  function setAttrs(el, attrs) {
    for (const [name, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (name === 'style') throw new Error('inline style attributes are not allowed (CSP)');
      if (typeof v === 'function' && name.startsWith('on')) {
        el.addEventListener(name.slice(2), v); // only for elements that are never morphed
      } else if (name === 'class' && Array.isArray(v)) {
        const cls = v.filter(Boolean).join(' ');
        if (cls) el.setAttribute('class', cls);
      } else {
        el.setAttribute(name, v === true ? '' : String(v));
      }
    }
    return el;
  }

  /** h('a', {href: '#/x', class: 'y'}, 'text', child…) → element; strings become text nodes. */
  function h(tag, attrs, ...children) {
    return append(setAttrs(document.createElement(tag), attrs), children);
  }

  /** Same as h() for SVG elements. */
  function svg(tag, attrs, ...children) {
    return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
  }

  /* ---- morph: make the live DOM look like a freshly rendered tree ---------------- *
   * Children with data-key are matched by key, others by position and tag. Elements
   * with data-keep keep their children (content managed elsewhere, e.g. the log);
   * elements with data-busy (a running action) are left alone; the `open` attribute of
   * <details>/<dialog> is the user's; an <input>/<select>/<textarea> with data-controlled
   * gets its value from the new tree unless it has focus. */

  const keyOf = (n) => (n.nodeType === 1 ? n.getAttribute('data-key') : null);

  function syncAttrs(from, to) {
    const fa = from.attributes;
    for (let i = fa.length - 1; i >= 0; i -= 1) {
      const name = fa[i].name;
      if (name !== 'open' && !to.hasAttribute(name)) from.removeAttribute(name);
    }
    const ta = to.attributes;
    for (let i = 0; i < ta.length; i += 1) {
      const { name, value } = ta[i];
      if (name === 'open') continue;
      if (name === 'style') from.style.cssText = to.style.cssText;
      else if (from.getAttribute(name) !== value) from.setAttribute(name, value);
    }
  }

  function morphNode(from, to) {
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    if (from.hasAttribute('data-busy')) return;
    if (from.isEqualNode(to) && !to.hasAttribute('data-controlled')) return; // fast path
    syncAttrs(from, to);
    if (from.hasAttribute('data-keep')) return;
    morphChildren(from, to);
    if (to.hasAttribute('data-controlled') && from !== document.activeElement && 'value' in from) {
      if (from.type === 'checkbox' || from.type === 'radio') from.checked = to.checked;
      else if (from.value !== to.value) from.value = to.value;
    }
  }

  function morphChildren(from, to) {
    const fresh = Array.from(to.childNodes);
    const keyed = new Map();
    const wanted = new Set();
    for (const n of fresh) { const k = keyOf(n); if (k !== null) wanted.add(k); }
    if (wanted.size) {
      for (const c of from.children) {
        const k = keyOf(c);
        if (k !== null) keyed.set(k, c);
      }
    }
    let cur = from.firstChild;
    for (const n of fresh) {
      while (cur && keyOf(cur) !== null && !wanted.has(keyOf(cur))) {
        const gone = cur;
        cur = cur.nextSibling;
        from.removeChild(gone);
      }
      const k = keyOf(n);
      let match = null;
      if (k !== null) {
        match = keyed.get(k) || null;
        if (match && match.nodeName !== n.nodeName) match = null;
        if (match) keyed.delete(k);
      } else if (cur && keyOf(cur) === null && cur.nodeType === n.nodeType && cur.nodeName === n.nodeName) {
        match = cur;
      }
      if (match) {
        if (match === cur) cur = cur.nextSibling;
        else from.insertBefore(match, cur);
        morphNode(match, n);
      } else {
        from.insertBefore(n, cur);
      }
    }
    while (cur) {
      const next = cur.nextSibling;
      from.removeChild(cur);
      cur = next;
    }
  }

  /** Morphs the children of `root` into `children` (nodes or arrays of nodes). */
  function morphInto(root, children) {
    const tmp = append(root.cloneNode(false), [children]);
    morphChildren(root, tmp);
  }

  /* ---- toast ---------------------------------------------------------------------- */

  let toastTimer = null;
  /** Reports an outcome in the global #toast live region (error: class "error"). */
  function toast(message, isError = false) {
    const el = document.getElementById('toast');
    if (!el) return;
    clearTimeout(toastTimer);
    el.classList.toggle('error', !!isError);
    el.textContent = String(message);
    toastTimer = setTimeout(() => {
      el.textContent = '';
      el.classList.remove('error');
    }, isError ? 15000 : 8000);
  }

  const errorText = (e) => (e && e.message) || String(e);

  /* ---- confirm dialog ------------------------------------------------------------- */

  let pendingConfirm = null;
  /** Asks in the native <dialog id="confirm">; resolves true on Confirm, false otherwise. */
  function confirm(message) {
    const dlg = document.getElementById('confirm');
    if (!dlg || typeof dlg.showModal !== 'function') return Promise.resolve(window.confirm(message));
    if (pendingConfirm) pendingConfirm(false);
    const ok = document.getElementById('confirm-ok');
    const cancel = document.getElementById('confirm-cancel');
    const opener = document.activeElement;
    document.getElementById('confirm-message').textContent = message;
    return new Promise((resolve) => {
      const finish = (answer) => {
        pendingConfirm = null;
        ok.removeEventListener('click', onOk);
        cancel.removeEventListener('click', onCancel);
        dlg.removeEventListener('close', onClose);
        if (dlg.open) dlg.close();
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(answer);
      };
      const onOk = () => finish(true);
      const onCancel = () => finish(false);
      const onClose = () => finish(false); // Escape
      pendingConfirm = finish;
      ok.addEventListener('click', onOk);
      cancel.addEventListener('click', onCancel);
      dlg.addEventListener('close', onClose);
      dlg.showModal();
      cancel.focus();
    });
  }

  /* ---- busy buttons --------------------------------------------------------------- */

  /**
   * Runs `fn` with `button` disabled (and kept out of re-renders); errors go to the toast.
   * Resolves to fn's result, or undefined after an error.
   */
  async function busy(button, fn) {
    let hadFocus = false;
    if (button) {
      if (button.hasAttribute('data-busy')) return undefined;
      hadFocus = document.activeElement === button;
      button.setAttribute('data-busy', '');
      button.setAttribute('aria-busy', 'true');
      button.disabled = true;
    }
    try {
      return await fn();
    } catch (e) {
      if (!(e && e.name === 'AbortError')) toast(errorText(e), true);
      return undefined;
    } finally {
      if (button) {
        button.removeAttribute('data-busy');
        button.removeAttribute('aria-busy');
        button.disabled = false;
        // Disabling dropped the focus to <body>: give it back.
        const lost = !document.activeElement || document.activeElement === document.body;
        if (hadFocus && lost && button.isConnected && !document.querySelector('dialog[open]')) button.focus();
        // Updates that arrived while it was busy skipped it: draw it as the state is now.
        if (C.app && C.app.schedule) C.app.schedule();
      }
    }
  }

  /* ---- formatting ----------------------------------------------------------------- */

  /** kubectl's HumanDuration for a span in milliseconds: "45s", "3m10s", "2h", "5d". */
  function duration(ms) {
    const s = Math.floor(ms / 1000);
    if (s < -1) return '<invalid>';
    if (s < 0) return '0s';
    if (s < 120) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
    if (m < 180) return `${m}m`;
    const hr = Math.floor(m / 60);
    if (hr < 8) return m % 60 ? `${hr}h${m % 60}m` : `${hr}h`;
    if (hr < 48) return `${hr}h`;
    const d = Math.floor(hr / 24);
    if (hr < 24 * 8) return hr % 24 ? `${d}d${hr % 24}h` : `${d}d`;
    if (hr < 24 * 365 * 2) return `${d}d`;
    const y = Math.floor(d / 365);
    if (hr < 24 * 365 * 8) return d % 365 ? `${y}y${d % 365}d` : `${y}y`;
    return `${y}y`;
  }

  /** Age of an RFC 3339 timestamp ("<unknown>" when missing). */
  function age(ts) {
    const t = ts ? Date.parse(ts) : NaN;
    return Number.isFinite(t) ? duration(Date.now() - t) : '<unknown>';
  }

  const pad = (n) => String(n).padStart(2, '0');
  /** Local "YYYY-MM-DD HH:MM:SS". */
  function formatTime(ts) {
    const d = new Date(ts);
    if (!ts || Number.isNaN(d.getTime())) return '—';
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  /** <time> showing the age, with the exact time as tooltip (kept current by refreshAges). */
  function ageEl(ts) {
    return h('time', { datetime: ts || null, title: ts ? formatTime(ts) : null, 'data-age': ts ? '' : null }, age(ts));
  }

  /** Brings every age under `root` up to date in place (cheap; run every second). */
  function refreshAges(root) {
    for (const t of root.querySelectorAll('time[data-age]')) {
      const text = age(t.getAttribute('datetime'));
      if (t.textContent !== text) t.textContent = text;
    }
  }

  const TONES = {
    ok: ['Ready', 'Running', 'Succeeded', 'Normal', 'True', 'Available', 'Complete'],
    bad: ['NotReady', 'Failed', 'Warning', 'False', 'Error', 'CrashLoopBackOff'],
    warn: ['Pending', 'Unknown', 'Terminating', 'SchedulingDisabled', 'Waiting', 'ContainerCreating'],
  };
  function toneOf(text) {
    const first = String(text).split(',')[0];
    for (const [tone, words] of Object.entries(TONES)) if (words.includes(first)) return tone;
    return 'neutral';
  }

  /** A status pill; the text always says what the colour means. */
  function badge(text, tone) {
    return h('span', { class: `badge tone-${tone || toneOf(text)}` }, text);
  }

  /* ---- building blocks ------------------------------------------------------------ */

  /** A scrollable, captioned table. columns: [{key, label}]; rows: <tr> elements. */
  function table({ id, caption, columns, rows, empty }) {
    const body = h('tbody', null, rows);
    if (!rows.length && empty) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty)));
    }
    return h('div', { class: 'table-wrap' },
      h('table', { id },
        caption ? h('caption', null, caption) : null,
        h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', 'data-col': c.key }, c.label)))),
        body));
  }

  /** <td data-col="col">…</td> */
  const td = (col, ...children) => h('td', { 'data-col': col }, ...children);

  /** <dl> from [label, value] pairs (null values skipped). */
  function dl(pairs, cls) {
    return h('dl', { class: cls || 'summary' },
      pairs.filter((p) => p && p[1] !== null && p[1] !== undefined)
        .map(([k, v]) => h('div', { 'data-key': k }, h('dt', null, k), h('dd', null, v))));
  }

  /** key=value chips for a label/annotation map. */
  function labelList(map) {
    const entries = Object.entries(map || {});
    if (!entries.length) return h('span', { class: 'muted' }, 'none');
    return h('ul', { class: 'chips' }, entries.map(([k, v]) => h('li', null, h('code', null, v === '' ? k : `${k}=${v}`))));
  }

  /** href of a pod page. */
  const podHref = (ns, name) => `#/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;

  /** A <select> with options [{value, label}] (or strings), the current one selected. */
  function select(attrs, options, current) {
    return h('select', attrs, options.map((o) => {
      const opt = typeof o === 'string' ? { value: o, label: o } : o;
      return h('option', { value: opt.value, selected: opt.value === current }, opt.label);
    }));
  }

  C.ui = {
    h,
    svg,
    morphInto,
    morphNode,
    toast,
    errorText,
    confirm,
    busy,
    duration,
    age,
    ageEl,
    refreshAges,
    formatTime,
    toneOf,
    badge,
    table,
    td,
    dl,
    labelList,
    podHref,
    select,
  };
})();
