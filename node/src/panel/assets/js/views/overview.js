/* Capstan panel — views/overview.js  (#/overview)
 * Cards (nodes Ready/NotReady, cluster CPU and memory: allocatable / requested / used,
 * pods by phase), three history line charts and the latest 10 events. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl } = C.ui;
  const { formatCpu, formatBytes } = C.api;
  const M = C.model;
  const S = C.state;

  const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

  function card(key, title, ...body) {
    return h('section', { class: 'card', 'data-key': key, 'aria-labelledby': `card-${key}` },
      h('h2', { id: `card-${key}` }, title), ...body);
  }

  function stat(label, value, tone) {
    return h('div', { class: 'stat', 'data-key': label },
      h('span', { class: ['stat-value', tone && `text-${tone}`] }, String(value)),
      h('span', { class: 'stat-label' }, label));
  }

  function nodesCard() {
    let ready = 0;
    let notReady = 0;
    for (const n of S.nodes.values()) {
      if (M.nodeReadiness(n) === 'Ready') ready += 1;
      else notReady += 1;
    }
    return card('nodes', 'Nodes',
      h('div', { class: 'stats', id: 'overview-nodes' },
        stat('Ready', ready, 'ok'),
        stat('NotReady', notReady, notReady ? 'bad' : null)),
      h('p', { class: 'card-foot' }, h('a', { href: '#/nodes' }, 'All nodes')));
  }

  function resourceCard(key, title, alloc, req, used, format) {
    return card(key, title,
      h('dl', { class: 'resource', id: `overview-${key}` },
        h('div', null, h('dt', null, 'Allocatable'), h('dd', { 'data-field': 'allocatable' }, format(alloc))),
        h('div', null, h('dt', null, h('span', { class: 'swatch swatch-requested' }), 'Requested'),
          h('dd', { 'data-field': 'requested' }, `${format(req)} (${C.charts.pct(req, alloc)}%)`)),
        h('div', null, h('dt', null, h('span', { class: 'swatch swatch-used' }), 'Used'),
          h('dd', { 'data-field': 'used' }, used === null ? 'not measured yet' : `${format(used)} (${C.charts.pct(used, alloc)}%)`))),
      C.charts.bar({ what: title, allocatable: alloc, requested: req, used, format }));
  }

  function podsCard() {
    const counts = Object.fromEntries(PHASES.map((p) => [p, 0]));
    for (const p of S.pods.values()) {
      const phase = (p.status && p.status.phase) || 'Unknown';
      counts[PHASES.includes(phase) ? phase : 'Unknown'] += 1;
    }
    return card('pods', 'Pods by phase',
      h('ul', { class: 'phase-list', id: 'overview-pods' },
        PHASES.map((p) => h('li', { 'data-phase': p }, badge(p), h('span', { class: 'count' }, String(counts[p]))))),
      h('p', { class: 'card-foot' }, h('a', { href: '#/pods' }, 'All pods')));
  }

  function eventRow(ev) {
    const io = ev.involvedObject || {};
    return h('tr', { 'data-key': S.key(ev) },
      td('time', ageEl(ev.lastTimestamp || ev.eventTime || ev.firstTimestamp)),
      td('type', badge(ev.type || 'Normal')),
      td('reason', ev.reason || ''),
      td('object', `${io.kind || '?'}/${io.name || '?'}`),
      td('message', ev.message || ''));
  }

  function render() {
    const res = M.clusterResources();
    const used = res.used || { cpu: null, memory: null };
    const hist = S.history;
    const events = M.eventsSorted().slice(0, 10);
    return [
      h('h1', null, 'Overview'),
      h('div', { class: 'cards' },
        nodesCard(),
        resourceCard('cpu', 'CPU', res.allocatable.cpu, res.requested.cpu, used.cpu, formatCpu),
        resourceCard('memory', 'Memory', res.allocatable.memory, res.requested.memory, used.memory, formatBytes),
        podsCard()),
      h('section', { class: 'charts', 'aria-label': 'History' },
        C.charts.line({ title: 'CPU used', samples: hist, value: (s) => s.cpu_used_millis, format: formatCpu, cls: 'chart-cpu' }),
        C.charts.line({ title: 'Memory used', samples: hist, value: (s) => s.memory_used_bytes, format: formatBytes, cls: 'chart-memory' }),
        C.charts.line({ title: 'Pods running', samples: hist, value: (s) => s.pods_running, format: (v) => String(Math.round(v)), cls: 'chart-pods' })),
      h('section', { 'aria-labelledby': 'latest-events' },
        h('h2', { id: 'latest-events' }, 'Latest events ', h('a', { href: '#/events', class: 'small' }, '(all events)')),
        table({
          id: 'overview-events',
          caption: 'The 10 most recent events',
          columns: [
            { key: 'time', label: 'Last seen' }, { key: 'type', label: 'Type' }, { key: 'reason', label: 'Reason' },
            { key: 'object', label: 'Object' }, { key: 'message', label: 'Message' },
          ],
          rows: events.map(eventRow),
          empty: S.synced ? 'No events.' : 'Loading…',
        })),
    ];
  }

  C.views = C.views || {};
  C.views.overview = { title: 'Overview', render };
})();
