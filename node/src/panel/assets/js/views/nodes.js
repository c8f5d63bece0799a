/* Capstan panel — views/nodes.js  (#/nodes)
 * The nodes table (kubectl-like status, resources, pods, taints, heartbeat age) with
 * cordon / uncordon / drain actions, and an expandable details block per node
 * (conditions, labels, addresses, capacity, its pods). */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl, age, formatTime, labelList, podHref, toast, confirm, busy } = C.ui;
  const { formatCpu, formatBytes, parseCpuMillis, parseBytes } = C.api;
  const M = C.model;
  const S = C.state;
  const api = C.api;

  const taintText = (t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
  const triple = (a, r, u, f) => `${f(a)} / ${f(r)} / ${u === undefined ? '—' : f(u)}`;

  function row(node) {
    const name = node.metadata.name;
    const alloc = M.allocatable(node);
    const req = M.requested(name);
    const usage = (S.usage.nodes || {})[name];
    const pods = M.podsOnNode(name).filter((p) => !M.isFinished(p)).length;
    const ready = M.condition(node, 'Ready');
    const taints = (node.spec && node.spec.taints) || [];
    const cordoned = !!(node.spec && node.spec.unschedulable);
    return h('tr', { 'data-key': name, 'data-node': name },
      td('name', h('a', { href: `#node-${name}`, 'data-action': 'show-node', 'data-node': name }, name)),
      td('status', badge(M.nodeStatus(node), M.nodeReadiness(node) === 'Ready' ? (cordoned ? 'warn' : 'ok') : null)),
      td('cpu', triple(alloc.cpu, req.cpu, usage && Number(usage.cpu_millis), formatCpu)),
      td('memory', triple(alloc.memory, req.memory, usage && Number(usage.memory_bytes), formatBytes)),
      td('pods', `${pods}/${alloc.pods}`),
      td('taints', taints.length ? taints.map(taintText).join(', ') : h('span', { class: 'muted' }, '<none>')),
      td('heartbeat', ready && ready.lastHeartbeatTime ? ageEl(ready.lastHeartbeatTime) : '—'),
      td('actions', h('div', { class: 'actions' },
        cordoned
          ? h('button', { type: 'button', 'data-action': 'uncordon', 'data-node': name }, 'Uncordon')
          : h('button', { type: 'button', 'data-action': 'cordon', 'data-node': name }, 'Cordon'),
        h('button', { type: 'button', class: 'danger', 'data-action': 'drain', 'data-node': name }, 'Drain'))));
  }

  function details(node) {
    const name = node.metadata.name;
    const st = node.status || {};
    const conds = st.conditions || [];
    const cap = st.capacity || {};
    const alloc = st.allocatable || {};
    const resources = [...new Set([...Object.keys(cap), ...Object.keys(alloc)])].sort();
    const fmt = (k, v) => (v === undefined ? '—' : k === 'cpu' ? `${v} (${formatCpu(parseCpuMillis(v))})`
      : /memory|storage/.test(k) ? `${v} (${formatBytes(parseBytes(v))})` : String(v));
    const pods = M.podsOnNode(name);
    const info = st.nodeInfo || {};
    return h('details', { class: 'node-details', id: `node-${name}`, 'data-key': name, 'data-node-details': name },
      h('summary', null, h('strong', null, name), ' ', badge(M.nodeStatus(node)), ' ',
        h('span', { class: 'muted' }, `${pods.length} pod${pods.length === 1 ? '' : 's'}`)),
      h('div', { class: 'details-body' },
        C.ui.dl([
          ['Created', `${formatTime(node.metadata.creationTimestamp)} (${age(node.metadata.creationTimestamp)} ago)`],
          ['Addresses', (st.addresses || []).map((a) => `${a.type}: ${a.address}`).join(', ') || '—'],
          ['Kubelet', info.kubeletVersion || null],
          ['OS / arch', info.operatingSystem ? `${info.operatingSystem}/${info.architecture || '?'}` : null],
          ['Labels', labelList(node.metadata.labels)],
        ]),
        table({
          caption: `Conditions of ${name}`,
          columns: [{ key: 'type', label: 'Type' }, { key: 'status', label: 'Status' }, { key: 'reason', label: 'Reason' },
            { key: 'message', label: 'Message' }, { key: 'transition', label: 'Last transition' }],
          rows: conds.map((c) => h('tr', { 'data-key': c.type },
            td('type', c.type), td('status', badge(c.status)), td('reason', c.reason || ''), td('message', c.message || ''),
            td('transition', c.lastTransitionTime ? formatTime(c.lastTransitionTime) : '—'))),
          empty: 'No conditions reported.',
        }),
        table({
          caption: `Capacity and allocatable of ${name}`,
          columns: [{ key: 'resource', label: 'Resource' }, { key: 'capacity', label: 'Capacity' }, { key: 'allocatable', label: 'Allocatable' }],
          rows: resources.map((k) => h('tr', { 'data-key': k }, td('resource', k), td('capacity', fmt(k, cap[k])), td('allocatable', fmt(k, alloc[k])))),
          empty: 'Not reported.',
        }),
        h('h3', null, `Pods on ${name}`),
        pods.length
          ? h('ul', { class: 'pod-links' }, pods.map((p) => h('li', { 'data-key': S.key(p) },
            h('a', { href: podHref(p.metadata.namespace, p.metadata.name) }, `${p.metadata.namespace}/${p.metadata.name}`),
            ' ', badge(M.podPhase(p)))))
          : h('p', { class: 'muted' }, 'No pods.')));
  }

  function render() {
    const nodes = S.list('nodes');
    return [
      h('h1', null, 'Nodes'),
      table({
        id: 'nodes-table',
        caption: `${nodes.length} node${nodes.length === 1 ? '' : 's'} — CPU and memory as allocatable / requested / used`,
        columns: [
          { key: 'name', label: 'Name' }, { key: 'status', label: 'Status' }, { key: 'cpu', label: 'CPU (alloc / req / used)' },
          { key: 'memory', label: 'Memory (alloc / req / used)' }, { key: 'pods', label: 'Pods' }, { key: 'taints', label: 'Taints' },
          { key: 'heartbeat', label: 'Heartbeat' }, { key: 'actions', label: 'Actions' },
        ],
        rows: nodes.map(row),
        empty: S.synced ? 'No nodes have joined.' : 'Loading…',
      }),
      h('section', { 'aria-labelledby': 'node-details-h' },
        h('h2', { id: 'node-details-h' }, 'Node details'),
        h('div', { class: 'details-list' }, nodes.map(details))),
    ];
  }

  const setUnschedulable = (name, on) => api.patch(api.paths.node(name), { spec: { unschedulable: on ? true : null } });

  async function cordon(btn) {
    const name = btn.getAttribute('data-node');
    if (!(await confirm(`Cordon node ${name}? No new pods will be scheduled on it.`))) return;
    await busy(btn, async () => {
      await setUnschedulable(name, true);
      toast(`Cordoned node ${name}`);
    });
  }

  async function uncordon(btn) {
    const name = btn.getAttribute('data-node');
    await busy(btn, async () => {
      await setUnschedulable(name, false);
      toast(`Uncordoned node ${name}`);
    });
  }

  const isMirror = (p) => !!((p.metadata.annotations || {})['kubernetes.io/config.mirror']);

  async function drain(btn) {
    const name = btn.getAttribute('data-node');
    if (!(await confirm(`Drain node ${name}? It will be cordoned and its pods deleted, so their controllers recreate them elsewhere.`))) return;
    await busy(btn, async () => {
      const list = await api.get(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`);
      const pods = ((list && list.items) || [])
        .filter((p) => p.spec && p.spec.nodeName === name && !p.metadata.deletionTimestamp && !isMirror(p));
      const unmanaged = pods.filter((p) => !M.controllerOf(p) && !M.isFinished(p));
      if (unmanaged.length) {
        toast(`Refusing to drain ${name}: these pods have no controller and would not come back: ${unmanaged.map(S.key).join(', ')}. Delete them first.`, true);
        return;
      }
      await setUnschedulable(name, true);
      let evicted = 0;
      const failed = [];
      for (const p of pods) {
        try {
          await api.del(api.paths.pod(p.metadata.namespace, p.metadata.name));
          evicted += 1;
        } catch (e) {
          if (e.status !== 404) failed.push(`${S.key(p)} (${e.message})`);
        }
      }
      if (failed.length) toast(`Drained node ${name} partly: evicted ${evicted} pod(s); failed: ${failed.join('; ')}`, true);
      else toast(`Drained node ${name}: evicted ${evicted} pod${evicted === 1 ? '' : 's'}`);
    });
  }

  /** The name link opens that node's details and moves focus there. */
  function showNode(el) {
    const d = document.getElementById(`node-${el.getAttribute('data-node')}`);
    if (!d) return;
    d.open = true;
    d.scrollIntoView({ block: 'start' });
    d.querySelector('summary').focus();
  }

  C.views = C.views || {};
  C.views.nodes = {
    title: 'Nodes',
    render,
    watch: ['nodes', 'pods', 'sample'],
    actions: { cordon, uncordon, drain, 'show-node': showNode },
  };
})();
