/* Capstan panel — views/pod.js  (#/pods/NS/NAME)
 * One pod: summary, conditions, containers (state, probes), its events, a live log tail
 * (fetch stream, last 2000 lines, aborted when leaving) and Delete. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl, age, formatTime, labelList, dl } = C.ui;
  const M = C.model;
  const S = C.state;

  const MAX_LINES = 2000;
  let last = null; // {k, pod}: the last state seen, kept when the pod disappears
  const log = { ctrl: null, container: '', lines: [], partial: '', state: 'idle', frame: 0, ns: '', name: '' };

  /* ---- formatting helpers -------------------------------------------------------- */

  function stateText(s) {
    if (!s) return { text: '—', tone: 'neutral' };
    if (s.running) return { text: `Running (since ${formatTime(s.running.startedAt)}, ${age(s.running.startedAt)})`, tone: 'ok' };
    if (s.terminated) {
      const t = s.terminated;
      return { text: `Terminated (${t.reason || 'Unknown'}, exit code ${t.exitCode ?? '?'})`, tone: t.exitCode === 0 ? 'neutral' : 'bad' };
    }
    if (s.waiting) {
      const r = s.waiting.reason || 'Waiting';
      return { text: `Waiting (${r})`, tone: /BackOff|Err|Invalid/.test(r) ? 'bad' : 'warn' };
    }
    return { text: '—', tone: 'neutral' };
  }

  /** "exec [cat /tmp/ready] period=5s", "http-get :8080/healthz", "tcp-socket :80". */
  function probeText(p) {
    let s;
    if (p.exec) s = `exec [${(p.exec.command || []).join(' ')}]`;
    else if (p.httpGet) {
      const g = p.httpGet;
      s = `http-get ${String(g.scheme || '').toUpperCase() === 'HTTPS' ? 'https://' : ''}${g.host || ''}:${g.port}${g.path || '/'}`;
    } else if (p.tcpSocket) s = `tcp-socket ${p.tcpSocket.host || ''}:${p.tcpSocket.port}`;
    else if (p.grpc) s = `grpc :${p.grpc.port}`;
    else s = 'unknown';
    const extra = [['delay', p.initialDelaySeconds, 's'], ['timeout', p.timeoutSeconds, 's'], ['period', p.periodSeconds, 's'],
      ['#success', p.successThreshold, ''], ['#failure', p.failureThreshold, '']]
      .filter(([, v]) => v !== undefined && v !== null).map(([k, v, u]) => `${k}=${v}${u}`);
    return [s, ...extra].join(' ');
  }

  function probes(c) {
    const items = [['liveness', c.livenessProbe], ['readiness', c.readinessProbe], ['startup', c.startupProbe]].filter(([, p]) => p);
    if (!items.length) return h('span', { class: 'muted' }, 'none');
    return h('ul', { class: 'plain' }, items.map(([k, p]) => h('li', null, `${k}: `, h('code', null, probeText(p)))));
  }

  function qos(pod) {
    if (pod.status && pod.status.qosClass) return pod.status.qosClass;
    const cs = (pod.spec && pod.spec.containers) || [];
    const res = cs.map((c) => c.resources || {});
    if (res.every((r) => !Object.keys(r.requests || {}).length && !Object.keys(r.limits || {}).length)) return 'BestEffort';
    const guaranteed = res.every((r) => ['cpu', 'memory'].every((k) => (r.limits || {})[k]
      && (!(r.requests || {})[k] || C.api.parseQuantity(r.requests[k]) === C.api.parseQuantity(r.limits[k]))));
    return guaranteed ? 'Guaranteed' : 'Burstable';
  }

  function owner(pod) {
    const ref = M.controllerOf(pod);
    if (!ref) return h('span', { class: 'muted' }, '<none>');
    const parts = [h('a', { href: '#/workloads' }, `${ref.kind}/${ref.name}`)];
    const rs = ref.kind === 'ReplicaSet' && S.replicasets.get(`${pod.metadata.namespace}/${ref.name}`);
    const dep = rs && M.controllerOf(rs);
    if (dep) parts.push(' (', h('a', { href: '#/workloads' }, `${dep.kind}/${dep.name}`), ')');
    return h('span', null, parts);
  }

  const containerStatus = (pod, name) => [
    ...((pod.status && pod.status.containerStatuses) || []),
    ...((pod.status && pod.status.initContainerStatuses) || []),
  ].find((s) => s.name === name) || null;

  /* ---- rendering ----------------------------------------------------------------- */

  function containerRows(pod) {
    const rows = [];
    const add = (c, init) => {
      const st = containerStatus(pod, c.name) || {};
      const now = stateText(st.state);
      const prev = stateText(st.lastState);
      rows.push(h('tr', { 'data-key': `${init ? 'init:' : ''}${c.name}`, 'data-container': c.name },
        td('name', c.name, init ? h('span', { class: 'muted' }, ' (init)') : null),
        td('image', h('code', null, c.image || '')),
        td('state', badge(now.text, now.tone)),
        td('last-state', prev.text),
        td('ready', st.ready ? 'true' : 'false'),
        td('restarts', String(st.restartCount || 0)),
        td('probes', probes(c))));
    };
    for (const c of (pod.spec && pod.spec.initContainers) || []) add(c, true);
    for (const c of (pod.spec && pod.spec.containers) || []) add(c, false);
    return rows;
  }

  function podEvents(pod) {
    const { uid, namespace, name } = pod.metadata;
    return M.eventsSorted().filter((ev) => {
      const io = ev.involvedObject || {};
      return (uid && io.uid === uid) || (io.kind === 'Pod' && io.namespace === namespace && io.name === name);
    });
  }

  function logSection(pod) {
    const names = ((pod.spec && pod.spec.containers) || []).map((c) => c.name);
    if (!log.container || !names.includes(log.container)) log.container = names[0] || '';
    return h('section', { 'data-key': 'logs', 'aria-labelledby': 'logs-h', class: 'logs' },
      h('h2', { id: 'logs-h' }, 'Log'),
      h('div', { class: 'log-toolbar', 'data-key': 'toolbar' },
        names.length > 1 ? h('div', { class: 'field inline', 'data-key': 'select' },
          h('label', { for: 'log-container' }, 'Container'),
          C.ui.select({ id: 'log-container', 'data-controlled': true }, names, log.container)) : null,
        h('div', { id: 'log-controls', class: 'log-controls', 'data-keep': true, 'data-key': 'controls' },
          h('span', { id: 'log-status', role: 'status' }),
          h('button', { type: 'button', 'data-action': 'follow-again', hidden: true }, 'Follow again'))),
      h('pre', { id: 'log', 'data-keep': true, tabindex: 0, 'aria-label': `Log of ${log.container}`, class: 'log' }));
  }

  function render(ctx) {
    const { ns, name } = ctx.params;
    const k = `${ns}/${name}`;
    const live = S.pods.get(k);
    if (live) last = { k, pod: live };
    const pod = live || (last && last.k === k ? last.pod : null);
    const back = h('p', { 'data-key': 'back' }, h('a', { href: '#/pods' }, '← All pods'));
    if (!pod) {
      return [back, h('h1', { 'data-key': 'h1' }, `Pod ${k}`),
        h('p', { 'data-key': 'missing', role: 'status', class: S.synced ? 'notice' : 'muted' },
          S.synced ? `Pod ${k} does not exist (it may have been deleted).` : 'Loading…')];
    }
    const st = pod.status || {};
    const ips = (st.podIPs || []).map((p) => p.ip).join(', ') || st.podIP || '—';
    const node = pod.spec && pod.spec.nodeName;
    const events = podEvents(pod);
    return [
      back,
      h('div', { class: 'title-row', 'data-key': 'title' },
        h('h1', null, `Pod ${pod.metadata.name} `, badge(M.podPhase(pod))),
        h('button', { type: 'button', class: 'danger', 'data-action': 'delete', disabled: !live, 'aria-label': `Delete pod ${pod.metadata.name}` }, 'Delete')),
      live ? null : h('p', { class: 'notice', role: 'status', 'data-key': 'gone' },
        `This pod no longer exists: it has been deleted. Showing its last known state.`),
      h('section', { 'data-key': 'summary', 'aria-labelledby': 'summary-h' },
        h('h2', { id: 'summary-h', class: 'visually-hidden' }, 'Summary'),
        dl([
          ['Namespace', pod.metadata.namespace],
          ['Node', node ? h('a', { href: '#/nodes' }, node) : h('span', { class: 'muted' }, 'not scheduled')],
          ['Phase', M.podPhase(pod)],
          ['Pod IPs', ips],
          ['Host IP', st.hostIP || '—'],
          ['Start time', st.startTime ? `${formatTime(st.startTime)} (${age(st.startTime)} ago)` : '—'],
          ['QoS class', qos(pod)],
          ['Controlled by', owner(pod)],
          ['Labels', labelList(pod.metadata.labels)],
          ['Reason', st.reason ? `${st.reason}${st.message ? `: ${st.message}` : ''}` : null],
        ])),
      h('section', { 'data-key': 'conditions', 'aria-labelledby': 'conditions-h' },
        h('h2', { id: 'conditions-h' }, 'Conditions'),
        table({
          id: 'pod-conditions',
          caption: `Conditions of ${pod.metadata.name}`,
          columns: [{ key: 'type', label: 'Type' }, { key: 'status', label: 'Status' }, { key: 'reason', label: 'Reason' },
            { key: 'message', label: 'Message' }, { key: 'transition', label: 'Last transition' }],
          rows: (st.conditions || []).map((c) => h('tr', { 'data-key': c.type },
            td('type', c.type), td('status', badge(c.status)), td('reason', c.reason || ''), td('message', c.message || ''),
            td('transition', c.lastTransitionTime ? formatTime(c.lastTransitionTime) : '—'))),
          empty: 'No conditions yet.',
        })),
      h('section', { 'data-key': 'containers', 'aria-labelledby': 'containers-h' },
        h('h2', { id: 'containers-h' }, 'Containers'),
        table({
          id: 'containers-table',
          caption: `Containers of ${pod.metadata.name}`,
          columns: [{ key: 'name', label: 'Name' }, { key: 'image', label: 'Image' }, { key: 'state', label: 'State' },
            { key: 'last-state', label: 'Last state' }, { key: 'ready', label: 'Ready' }, { key: 'restarts', label: 'Restarts' },
            { key: 'probes', label: 'Probes' }],
          rows: containerRows(pod),
        })),
      h('section', { 'data-key': 'events', 'aria-labelledby': 'pod-events-h' },
        h('h2', { id: 'pod-events-h' }, 'Events'),
        table({
          id: 'pod-events',
          caption: `Events about ${pod.metadata.name}, newest first`,
          columns: [{ key: 'time', label: 'Last seen' }, { key: 'type', label: 'Type' }, { key: 'reason', label: 'Reason' },
            { key: 'message', label: 'Message' }, { key: 'count', label: 'Count' }, { key: 'source', label: 'From' }],
          rows: events.slice(0, 200).map((ev) => h('tr', { 'data-key': S.key(ev) },
            td('time', ageEl(ev.lastTimestamp || ev.eventTime || ev.firstTimestamp)), td('type', badge(ev.type || 'Normal')),
            td('reason', ev.reason || ''), td('message', ev.message || ''), td('count', String(ev.count || 1)),
            td('source', (ev.source && ev.source.component) || ev.reportingComponent || ''))),
          empty: 'No events.',
        })),
      logSection(pod),
    ];
  }

  /* ---- log tail ------------------------------------------------------------------ */

  function flushLog() {
    log.frame = 0;
    const pre = document.getElementById('log');
    if (!pre) return;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    const text = log.lines.join('\n') + (log.partial ? (log.lines.length ? '\n' : '') + log.partial : '');
    pre.textContent = text;
    pre.classList.toggle('empty', !text);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
  const scheduleFlush = () => { if (!log.frame) log.frame = requestAnimationFrame(flushLog); };

  function onText(text) {
    const parts = (log.partial + text).split('\n');
    log.partial = parts.pop();
    if (parts.length) {
      log.lines = log.lines.concat(parts);
      if (log.lines.length > MAX_LINES) log.lines = log.lines.slice(-MAX_LINES);
    }
    scheduleFlush();
  }

  function setLogStatus(text, followAgain) {
    const status = document.getElementById('log-status');
    if (!status) return;
    status.textContent = text;
    const again = status.parentElement.querySelector('[data-action="follow-again"]');
    const hadFocus = again === document.activeElement;
    again.hidden = !followAgain;
    if (hadFocus && !followAgain) document.getElementById('log').focus();
  }

  function stopLog() {
    if (log.ctrl) log.ctrl.abort();
    log.ctrl = null;
    if (log.frame) cancelAnimationFrame(log.frame);
    log.frame = 0;
  }

  /** Whether the container has never run yet (no log to fetch). */
  function notStarted(pod, name) {
    const st = pod && containerStatus(pod, name);
    if (!pod || !pod.spec || !pod.spec.nodeName || !st) return true;
    return !!(st.state && st.state.waiting) && !st.lastState?.terminated && !(st.restartCount > 0);
  }

  function startLog() {
    stopLog();
    log.lines = [];
    log.partial = '';
    flushLog();
    const pod = S.pods.get(`${log.ns}/${log.name}`);
    if (!log.container) return;
    if (notStarted(pod, log.container)) {
      log.state = 'waiting';
      setLogStatus(pod ? `Waiting for container ${log.container} to start…` : 'No log: the pod is not there.', !!pod);
      return;
    }
    const ctrl = new AbortController();
    log.ctrl = ctrl;
    log.state = 'streaming';
    setLogStatus(`Following ${log.container}…`, false);
    C.api.streamLog({ ns: log.ns, name: log.name, container: log.container, tailLines: 200, signal: ctrl.signal, onText })
      .then(() => {
        if (log.ctrl !== ctrl) return;
        log.ctrl = null;
        log.state = 'ended';
        onText(log.partial ? '\n' : '');
        setLogStatus('(log stream ended)', true);
      })
      .catch((e) => {
        if (log.ctrl !== ctrl || (e && e.name === 'AbortError')) return;
        log.ctrl = null;
        log.state = 'ended';
        setLogStatus(`(log stream ended: ${C.ui.errorText(e)})`, true);
      });
  }

  C.views = C.views || {};
  C.views.pod = {
    title: 'Pod',
    render,
    watch: ['pods', 'events', 'replicasets'],
    mount(root, ctx) {
      log.ns = ctx.params.ns;
      log.name = ctx.params.name;
      document.title = `${ctx.params.name} · Pods · Capstan`;
      startLog();
    },
    /** After each re-render: start following once a waiting container runs. */
    update(root, ctx) {
      if (log.state === 'waiting' || (log.state === 'idle' && !log.ctrl)) {
        const pod = S.pods.get(`${ctx.params.ns}/${ctx.params.name}`);
        const pre = document.getElementById('log');
        if (pre && pod && log.container && !notStarted(pod, log.container)) startLog();
        else if (pre && log.state === 'idle' && log.container) startLog();
      }
    },
    unmount() {
      stopLog();
      log.state = 'idle';
      log.container = '';
      last = null;
    },
    actions: {
      delete: async (btn, ctx) => {
        const k = `${ctx.params.ns}/${ctx.params.name}`;
        await C.views.pods.deletePod(btn, k);
      },
      'follow-again': () => startLog(),
    },
    onChange(e) {
      if (e.target.id !== 'log-container') return;
      log.container = e.target.value;
      document.getElementById('log').setAttribute('aria-label', `Log of ${log.container}`);
      startLog();
    },
    probeText,
  };
})();
