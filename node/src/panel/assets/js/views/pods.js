/* Capstan panel — views/pods.js  (#/pods?ns=…&label=…&phase=…)
 * The pods table with namespace / label selector / phase filters kept in the hash query,
 * and a Delete action per pod. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl, toast, confirm, busy, podHref, select } = C.ui;
  const M = C.model;
  const S = C.state;
  const api = C.api;

  const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', 'Terminating'];

  /** "ready/total" containers and the restart sum. */
  function containerCounts(pod) {
    const statuses = (pod.status && pod.status.containerStatuses) || [];
    const total = ((pod.spec && pod.spec.containers) || []).length || statuses.length;
    return {
      ready: statuses.filter((s) => s.ready).length,
      total,
      restarts: statuses.reduce((n, s) => n + (Number(s.restartCount) || 0), 0),
    };
  }

  function row(pod) {
    const { namespace: ns, name } = pod.metadata;
    const k = S.key(pod);
    const cc = containerCounts(pod);
    const node = pod.spec && pod.spec.nodeName;
    return h('tr', { 'data-key': k, 'data-pod': k },
      td('name', h('a', { href: podHref(ns, name) }, name)),
      td('namespace', ns),
      td('node', node || h('span', { class: 'muted' }, '<none>')),
      td('phase', badge(M.podPhase(pod))),
      td('ready', `${cc.ready}/${cc.total}`),
      td('restarts', String(cc.restarts)),
      td('age', ageEl(pod.metadata.creationTimestamp)),
      td('actions', h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'data-pod': k, 'aria-label': `Delete pod ${name}` }, 'Delete'))));
  }

  function render(ctx) {
    const q = ctx.query;
    const ns = q.ns || '';
    const label = q.label || '';
    const phase = q.phase || '';
    let reqs = [];
    let selectorError = '';
    try { reqs = M.parseSelector(label); } catch (e) { selectorError = e.message; }
    const all = S.list('pods');
    const shown = all.filter((p) => (!ns || p.metadata.namespace === ns)
      && (!phase || M.podPhase(p) === phase)
      && M.matchesSelector(p.metadata.labels, reqs));
    const namespaces = M.namespaces(S.pods);
    if (ns && !namespaces.includes(ns)) namespaces.push(ns);
    return [
      h('h1', { 'data-key': 'h1' }, 'Pods'),
      h('form', { class: 'filters', 'data-key': 'filters', role: 'search', 'aria-label': 'Filter pods' },
        h('div', { class: 'field' }, h('label', { for: 'filter-namespace' }, 'Namespace'),
          select({ id: 'filter-namespace', 'data-controlled': true },
            [{ value: '', label: 'All namespaces' }, ...namespaces], ns)),
        h('div', { class: 'field' }, h('label', { for: 'filter-label' }, 'Label selector'),
          h('input', {
            id: 'filter-label', type: 'text', placeholder: 'app=web', value: label, autocomplete: 'off', spellcheck: 'false',
            'data-controlled': true, 'aria-invalid': selectorError ? 'true' : null, 'aria-describedby': 'filter-label-help',
          }),
          h('p', { id: 'filter-label-help', class: ['hint', selectorError && 'error-text'], 'aria-live': 'polite' },
            selectorError || 'k=v, k!=v or k; comma-separated')),
        h('div', { class: 'field' }, h('label', { for: 'filter-phase' }, 'Phase'),
          select({ id: 'filter-phase', 'data-controlled': true }, [{ value: '', label: 'All phases' }, ...PHASES], phase))),
      h('div', { 'data-key': 'table' }, table({
        id: 'pods-table',
        caption: shown.length === all.length ? `${all.length} pod${all.length === 1 ? '' : 's'}` : `${shown.length} of ${all.length} pods match the filters`,
        columns: [{ key: 'name', label: 'Name' }, { key: 'namespace', label: 'Namespace' }, { key: 'node', label: 'Node' },
          { key: 'phase', label: 'Phase' }, { key: 'ready', label: 'Ready' }, { key: 'restarts', label: 'Restarts' },
          { key: 'age', label: 'Age' }, { key: 'actions', label: 'Actions' }],
        rows: shown.map(row),
        empty: !S.synced ? 'Loading…' : all.length ? 'No pods match the filters.' : 'No pods.',
      })),
    ];
  }

  function readFilters() {
    return {
      ns: document.getElementById('filter-namespace').value,
      label: document.getElementById('filter-label').value.trim(),
      phase: document.getElementById('filter-phase').value,
    };
  }

  /** Deletes a pod after confirmation; used by the pod page too. */
  async function deletePod(btn, k) {
    const i = k.indexOf('/');
    const ns = k.slice(0, i);
    const name = k.slice(i + 1);
    if (!(await confirm(`Delete pod ${k}?`))) return false;
    const ok = await busy(btn, async () => {
      await api.del(api.paths.pod(ns, name));
      toast(`Deleted pod ${k}`);
      return true;
    });
    return !!ok;
  }

  C.views = C.views || {};
  C.views.pods = {
    title: 'Pods',
    render,
    watch: ['pods'],
    actions: { delete: (btn) => deletePod(btn, btn.getAttribute('data-pod')) },
    onInput(e) { if (e.target.id === 'filter-label') C.app.setQuery(readFilters()); },
    onChange(e) { if (/^filter-/.test(e.target.id)) C.app.setQuery(readFilters()); },
    onSubmit(e) { e.preventDefault(); },
    containerCounts,
    deletePod,
  };
})();
