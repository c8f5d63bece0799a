/* Capstan panel — state.js
 * The client-side copy of the cluster, kept live by the /ui/api/stream Server-Sent Events
 * (snapshot / change / sample), plus derived queries used by several views (node status,
 * pod phase, requests, owners, revisions, label selectors). Defines Capstan.state and
 * Capstan.model. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { parseCpuMillis, parseBytes } = C.api;

  const HISTORY_MAX = 180;
  const KINDS = {
    Node: 'nodes', Pod: 'pods', Deployment: 'deployments', ReplicaSet: 'replicasets', Event: 'events',
  };

  const state = {
    revision: 0,
    nodes: new Map(),
    pods: new Map(),
    deployments: new Map(),
    replicasets: new Map(),
    events: new Map(),
    history: [],
    usage: { nodes: {}, pods: {} },
    /** True between a snapshot and the next connection error. */
    connected: false,
    /** True once any snapshot has arrived. */
    synced: false,
  };

  const listeners = new Set();
  /** reason: 'snapshot' | 'change' | 'sample' | 'connection'; kind: the changed map's name. */
  function notify(reason, kind) {
    for (const fn of listeners) {
      try { fn(reason, kind); } catch (e) { setTimeout(() => { throw e; }); }
    }
  }

  /** "ns/name" for namespaced objects, "name" for cluster-scoped ones. */
  function key(obj) {
    const md = (obj && obj.metadata) || {};
    return md.namespace ? `${md.namespace}/${md.name}` : `${md.name}`;
  }

  /** Compares two decimal resourceVersion strings (missing counts as lowest). */
  function compareRv(a, b) {
    const x = /^\d+$/.test(a || '') ? a.replace(/^0+(?=\d)/, '') : '';
    const y = /^\d+$/.test(b || '') ? b.replace(/^0+(?=\d)/, '') : '';
    if (x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const rvOf = (o) => (o && o.metadata && o.metadata.resourceVersion) || '';

  function fill(map, list) {
    map.clear();
    for (const o of Array.isArray(list) ? list : []) if (o && o.metadata) map.set(key(o), o);
  }

  function normUsage(u) {
    return { nodes: (u && u.nodes) || {}, pods: (u && u.pods) || {} };
  }

  /** Replaces everything with a snapshot. */
  function applySnapshot(s) {
    state.revision = s.revision || 0;
    fill(state.nodes, s.nodes);
    fill(state.pods, s.pods);
    fill(state.deployments, s.deployments);
    fill(state.replicasets, s.replicasets);
    fill(state.events, s.events);
    state.history = (Array.isArray(s.history) ? s.history : []).slice(-HISTORY_MAX);
    state.usage = normUsage(s.usage);
    state.synced = true;
    state.connected = true;
    notify('snapshot');
  }

  /** Applies one ADDED/MODIFIED/DELETED change; stale ones (lower resourceVersion) are ignored. */
  function applyChange(c) {
    const map = state[KINDS[c && c.kind]];
    const obj = c && c.object;
    if (!map || !obj || !obj.metadata) return false;
    const k = key(obj);
    const held = map.get(k);
    if (held && compareRv(rvOf(obj), rvOf(held)) < 0) return false;
    if (c.type === 'DELETED') map.delete(k);
    else map.set(k, obj);
    notify('change', KINDS[c.kind]);
    return true;
  }

  function applySample(s) {
    if (!s) return;
    const { usage, ...sample } = s;
    state.history.push(sample);
    if (state.history.length > HISTORY_MAX) state.history.splice(0, state.history.length - HISTORY_MAX);
    if (usage) state.usage = normUsage(usage);
    notify('sample');
  }

  function setConnected(on) {
    if (state.connected === on) return;
    state.connected = on;
    notify('connection');
  }

  /* ---- the event stream ---------------------------------------------------------- */

  let source = null;
  let retryTimer = null;

  function handler(fn) {
    return (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      fn(data);
    };
  }

  /** Opens (or reopens) the EventSource. EventSource retries by itself; when it gives up
   *  (a non-200 answer, e.g. 401) we check the session, then reopen after a pause. */
  function connect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    source = new EventSource('/ui/api/stream');
    source.addEventListener('snapshot', handler(applySnapshot));
    source.addEventListener('change', handler(applyChange));
    source.addEventListener('sample', handler(applySample));
    source.addEventListener('error', () => {
      setConnected(false);
      if (source.readyState === EventSource.CLOSED) {
        retryTimer = setTimeout(async () => {
          try { await C.api.get('/api/v1'); } catch (_) { /* 401 → login page; else retry */ }
          connect();
        }, 2000);
      }
    });
  }

  function disconnect() {
    clearTimeout(retryTimer);
    if (source) source.close();
    source = null;
  }

  /* ---- derived queries (Capstan.model) ------------------------------------------- */

  const sortByKey = (map) => [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);

  function condition(obj, type) {
    const list = (obj && obj.status && obj.status.conditions) || [];
    return list.find((c) => c && c.type === type) || null;
  }

  /** "Ready" | "NotReady" | "Unknown" from the Ready condition. */
  function nodeReadiness(node) {
    const c = condition(node, 'Ready');
    if (!c) return 'Unknown';
    return c.status === 'True' ? 'Ready' : c.status === 'False' ? 'NotReady' : 'Unknown';
  }

  /** kubectl's STATUS column: "Ready", "NotReady,SchedulingDisabled", … */
  function nodeStatus(node) {
    const r = nodeReadiness(node);
    return node && node.spec && node.spec.unschedulable ? `${r},SchedulingDisabled` : r;
  }

  /** status.phase, or "Terminating" once deletionTimestamp is set. */
  function podPhase(pod) {
    if (pod.metadata && pod.metadata.deletionTimestamp) return 'Terminating';
    return (pod.status && pod.status.phase) || 'Unknown';
  }

  const isFinished = (pod) => ['Succeeded', 'Failed'].includes(pod.status && pod.status.phase);

  /** Sum of the containers' resources.requests: {cpu: millis, memory: bytes}. */
  function podRequests(pod) {
    let cpu = 0;
    let memory = 0;
    for (const c of (pod.spec && pod.spec.containers) || []) {
      const req = (c.resources && c.resources.requests) || {};
      cpu += parseCpuMillis(req.cpu);
      memory += parseBytes(req.memory);
    }
    return { cpu, memory };
  }

  /** Pods bound to `nodeName` (all of them, finished ones included). */
  function podsOnNode(nodeName) {
    return sortByKey(state.pods).filter((p) => p.spec && p.spec.nodeName === nodeName);
  }

  /** Requests of the pods that hold resources (bound, not Succeeded/Failed) on one node or all. */
  function requested(nodeName) {
    const total = { cpu: 0, memory: 0 };
    for (const p of state.pods.values()) {
      const bound = p.spec && p.spec.nodeName;
      if (!bound || isFinished(p) || (nodeName !== undefined && bound !== nodeName)) continue;
      const r = podRequests(p);
      total.cpu += r.cpu;
      total.memory += r.memory;
    }
    return total;
  }

  function allocatable(node) {
    const a = (node.status && node.status.allocatable) || {};
    return { cpu: parseCpuMillis(a.cpu), memory: parseBytes(a.memory), pods: parseInt(a.pods, 10) || 0 };
  }

  /** Cluster totals; `used` is null when nothing has been measured yet. */
  function clusterResources() {
    const alloc = { cpu: 0, memory: 0 };
    for (const n of state.nodes.values()) {
      const a = allocatable(n);
      alloc.cpu += a.cpu;
      alloc.memory += a.memory;
    }
    // Used: the latest sample (what the charts show), else the sum of the nodes' usage.
    let used = null;
    const last = state.history[state.history.length - 1];
    const nodeUsage = Object.values(state.usage.nodes || {});
    if (last) {
      used = { cpu: Number(last.cpu_used_millis) || 0, memory: Number(last.memory_used_bytes) || 0 };
    } else if (nodeUsage.length) {
      used = { cpu: 0, memory: 0 };
      for (const u of nodeUsage) {
        used.cpu += Number(u.cpu_millis) || 0;
        used.memory += Number(u.memory_bytes) || 0;
      }
    }
    return { allocatable: alloc, requested: requested(), used };
  }

  function controllerOf(obj) {
    const refs = (obj && obj.metadata && obj.metadata.ownerReferences) || [];
    return refs.find((r) => r && r.controller) || null;
  }

  const REVISION = 'deployment.kubernetes.io/revision';
  /** The deployment.kubernetes.io/revision annotation as a number (0 when absent). */
  function revisionOf(obj) {
    const a = (obj && obj.metadata && obj.metadata.annotations) || {};
    const n = parseInt(a[REVISION], 10);
    return Number.isFinite(n) ? n : 0;
  }

  /** ReplicaSets controlled by the deployment (by uid), newest revision first. */
  function ownedReplicaSets(dep, list) {
    const uid = dep && dep.metadata && dep.metadata.uid;
    const all = list || [...state.replicasets.values()];
    return all
      .filter((rs) => { const c = controllerOf(rs); return uid && c && c.uid === uid; })
      .sort((a, b) => revisionOf(b) - revisionOf(a));
  }

  /** When an event last happened (ms since epoch; 0 when unknown). */
  function eventTime(ev) {
    const t = ev.lastTimestamp || ev.eventTime || ev.firstTimestamp || (ev.metadata && ev.metadata.creationTimestamp);
    const ms = t ? Date.parse(t) : NaN;
    return Number.isFinite(ms) ? ms : 0;
  }

  /** Events newest first. */
  function eventsSorted() {
    return [...state.events.values()].map((ev) => [eventTime(ev), ev]).sort((a, b) => b[0] - a[0]).map((x) => x[1]);
  }

  /**
   * Parses "k=v,k!=v,k,!k" (also k==v) into requirements, or throws Error with a message.
   */
  function parseSelector(text) {
    const reqs = [];
    for (const raw of String(text || '').split(',')) {
      const part = raw.trim();
      if (!part) continue;
      let m;
      if ((m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part))) {
        reqs.push({ key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] });
      } else if ((m = /^!\s*([^=!\s]+)$/.exec(part))) {
        reqs.push({ key: m[1], op: '!' });
      } else if ((m = /^([^=!\s]+)$/.exec(part))) {
        reqs.push({ key: m[1], op: 'exists' });
      } else {
        throw new Error(`invalid label selector term "${part}"`);
      }
    }
    return reqs;
  }

  function matchesSelector(labels, reqs) {
    const l = labels || {};
    const has = (k) => Object.prototype.hasOwnProperty.call(l, k);
    return reqs.every((r) => {
      if (r.op === '=') return has(r.key) && l[r.key] === r.value;
      if (r.op === '!=') return !has(r.key) || l[r.key] !== r.value;
      if (r.op === '!') return !has(r.key);
      return has(r.key);
    });
  }

  /** Namespaces seen on objects of the given maps, sorted. */
  function namespaces(...maps) {
    const set = new Set();
    for (const m of maps) for (const o of m.values()) if (o.metadata && o.metadata.namespace) set.add(o.metadata.namespace);
    return [...set].sort();
  }

  C.state = Object.assign(state, {
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    key,
    compareRv,
    applySnapshot,
    applyChange,
    applySample,
    connect,
    disconnect,
    /** Objects of one kind ('nodes', 'pods', …) sorted by key. */
    list: (kind) => sortByKey(state[kind]),
    HISTORY_MAX,
  });

  C.model = {
    condition,
    nodeReadiness,
    nodeStatus,
    podPhase,
    isFinished,
    podRequests,
    podsOnNode,
    requested,
    allocatable,
    clusterResources,
    controllerOf,
    revisionOf,
    ownedReplicaSets,
    eventTime,
    eventsSorted,
    parseSelector,
    matchesSelector,
    namespaces,
    REVISION,
  };
})();
