/* Capstan panel — views/events.js  (#/events?q=…&type=…&ns=…)
 * Live events table, newest first (lastTimestamp, else eventTime, else firstTimestamp),
 * filtered by text (reason, object or message), type and namespace; at most 500 rows. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl, podHref, select } = C.ui;
  const M = C.model;
  const S = C.state;

  const LIMIT = 500;
  const objectText = (ev) => { const io = ev.involvedObject || {}; return `${io.kind || '?'}/${io.name || '?'}`; };

  function row(ev) {
    const io = ev.involvedObject || {};
    const when = ev.lastTimestamp || ev.eventTime || ev.firstTimestamp;
    const ns = io.namespace || ev.metadata.namespace;
    return h('tr', { 'data-key': S.key(ev), 'data-event': S.key(ev) },
      td('time', ageEl(when)),
      td('type', badge(ev.type || 'Normal')),
      td('reason', ev.reason || ''),
      td('object', io.kind === 'Pod' && ns && io.name ? h('a', { href: podHref(ns, io.name) }, objectText(ev)) : objectText(ev)),
      td('message', ev.message || ''),
      td('count', String(ev.count || 1)),
      td('source', (ev.source && ev.source.component) || ev.reportingComponent || ''));
  }

  function render(ctx) {
    const text = (ctx.query.q || '').toLowerCase();
    const type = ctx.query.type || '';
    const ns = ctx.query.ns || '';
    const all = M.eventsSorted();
    const matched = all.filter((ev) => (!type || (ev.type || 'Normal') === type)
      && (!ns || ev.metadata.namespace === ns)
      && (!text || [ev.reason, objectText(ev), ev.message].some((f) => String(f || '').toLowerCase().includes(text))));
    const shown = matched.slice(0, LIMIT);
    const namespaces = M.namespaces(S.events);
    if (ns && !namespaces.includes(ns)) namespaces.push(ns);
    let caption = `${matched.length} event${matched.length === 1 ? '' : 's'}${matched.length === all.length ? '' : ` match (of ${all.length})`}, newest first`;
    if (matched.length > LIMIT) caption += ` — showing the ${LIMIT} newest`;
    return [
      h('h1', { 'data-key': 'h1' }, 'Events'),
      h('form', { class: 'filters', 'data-key': 'filters', role: 'search', 'aria-label': 'Filter events' },
        h('div', { class: 'field' }, h('label', { for: 'filter-events' }, 'Search'),
          h('input', { id: 'filter-events', type: 'search', placeholder: 'reason, object or message', value: ctx.query.q || '', autocomplete: 'off', 'data-controlled': true })),
        h('div', { class: 'field' }, h('label', { for: 'filter-event-type' }, 'Type'),
          select({ id: 'filter-event-type', 'data-controlled': true }, [{ value: '', label: 'All types' }, 'Normal', 'Warning'], type)),
        h('div', { class: 'field' }, h('label', { for: 'filter-event-namespace' }, 'Namespace'),
          select({ id: 'filter-event-namespace', 'data-controlled': true }, [{ value: '', label: 'All namespaces' }, ...namespaces], ns))),
      h('div', { 'data-key': 'table' }, table({
        id: 'events-table',
        caption,
        columns: [{ key: 'time', label: 'Last seen' }, { key: 'type', label: 'Type' }, { key: 'reason', label: 'Reason' },
          { key: 'object', label: 'Object' }, { key: 'message', label: 'Message' }, { key: 'count', label: 'Count' },
          { key: 'source', label: 'Source' }],
        rows: shown.map(row),
        empty: !S.synced ? 'Loading…' : all.length ? 'No events match the filters.' : 'No events.',
      })),
    ];
  }

  function readFilters() {
    return {
      q: document.getElementById('filter-events').value,
      type: document.getElementById('filter-event-type').value,
      ns: document.getElementById('filter-event-namespace').value,
    };
  }

  C.views = C.views || {};
  C.views.events = {
    title: 'Events',
    render,
    watch: ['events'],
    onInput(e) { if (e.target.id === 'filter-events') C.app.setQuery(readFilters()); },
    onChange(e) { if (/^filter-event/.test(e.target.id)) C.app.setQuery(readFilters()); },
    onSubmit(e) { e.preventDefault(); },
  };
})();
