/* Capstan panel — views/workloads.js  (#/workloads)
 * Deployments (scale −1/+1/set, rollout restart, rollout undo, edit one container in a
 * dialog), their revision history (owned ReplicaSets) and the ReplicaSets table. */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, badge, table, td, ageEl, toast, confirm, busy, errorText } = C.ui;
  const M = C.model;
  const S = C.state;
  const api = C.api;

  const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);
  const split = (k) => { const i = k.indexOf('/'); return [k.slice(0, i), k.slice(i + 1)]; };
  const podSpec = (o) => (o && o.spec && o.spec.template && o.spec.template.spec) || {};
  const images = (o) => [...new Set((podSpec(o).containers || []).map((c) => c.image))].join(', ');

  /* ---- rendering ------------------------------------------------------------------ */

  function depRow(d) {
    const k = S.key(d);
    const name = d.metadata.name;
    const st = d.status || {};
    const want = num(d.spec && d.spec.replicas);
    const ready = num(st.readyReplicas);
    const b = (action, label, attrs = {}) => h('button', { type: 'button', 'data-action': action, 'data-deployment': k, ...attrs }, label);
    return h('tr', { 'data-key': k, 'data-deployment': k },
      td('name', name),
      td('namespace', d.metadata.namespace),
      td('ready', badge(`${ready}/${want}`, ready >= want ? 'ok' : 'warn')),
      td('updated', String(num(st.updatedReplicas))),
      td('available', String(num(st.availableReplicas))),
      td('revision', String(M.revisionOf(d) || '—')),
      td('images', h('code', null, images(d))),
      td('actions', h('div', { class: 'actions' },
        b('scale-down', '−1', { 'aria-label': `Scale ${name} down by one`, title: 'Scale down by one' }),
        b('scale-up', '+1', { 'aria-label': `Scale ${name} up by one`, title: 'Scale up by one' }),
        h('span', { class: 'set-replicas' },
          h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: want, 'data-replicas-for': k, 'aria-label': `Replicas for ${name}` }),
          b('set-replicas', 'Set', { 'aria-label': `Set replicas of ${name}` })),
        b('restart', 'Restart', { 'aria-label': `Rollout restart ${name}` }),
        b('undo', 'Undo', { class: 'danger', 'aria-label': `Rollout undo ${name}` }),
        b('edit', 'Edit', { 'aria-label': `Edit ${name}` }))));
  }

  function history(d) {
    const k = S.key(d);
    const owned = M.ownedReplicaSets(d);
    const cur = M.revisionOf(d);
    return h('details', { 'data-key': k, 'data-history-for': k },
      h('summary', null, h('strong', null, k), h('span', { class: 'muted' },
        ` — revision ${cur || '—'}, ${owned.length} ReplicaSet${owned.length === 1 ? '' : 's'}`)),
      table({
        caption: `Revision history of ${k}`,
        columns: [{ key: 'revision', label: 'Revision' }, { key: 'name', label: 'ReplicaSet' }, { key: 'replicas', label: 'Desired / ready' },
          { key: 'age', label: 'Age' }, { key: 'images', label: 'Images' }],
        rows: owned.map((rs) => {
          const r = M.revisionOf(rs);
          return h('tr', { 'data-key': S.key(rs) },
            td('revision', String(r || '—'), r && r === cur ? ' ' : null, r && r === cur ? h('span', { class: 'badge tone-ok' }, 'current') : null),
            td('name', rs.metadata.name),
            td('replicas', `${num(rs.spec && rs.spec.replicas)} / ${num(rs.status && rs.status.readyReplicas)}`),
            td('age', ageEl(rs.metadata.creationTimestamp)),
            td('images', h('code', null, images(rs))));
        }),
        empty: 'No ReplicaSets yet.',
      }));
  }

  function rsRow(rs) {
    const k = S.key(rs);
    const owner = M.controllerOf(rs);
    const st = rs.status || {};
    return h('tr', { 'data-key': k, 'data-replicaset': k },
      td('name', rs.metadata.name),
      td('namespace', rs.metadata.namespace),
      td('revision', String(M.revisionOf(rs) || '—')),
      td('desired', String(num(rs.spec && rs.spec.replicas))),
      td('current', String(num(st.replicas))),
      td('ready', String(num(st.readyReplicas))),
      td('owner', owner ? `${owner.kind}/${owner.name}` : h('span', { class: 'muted' }, '<none>')),
      td('age', ageEl(rs.metadata.creationTimestamp)));
  }

  function render() {
    const deps = S.list('deployments');
    const rss = S.list('replicasets');
    const loading = S.synced ? null : 'Loading…';
    return [
      h('h1', null, 'Workloads'),
      h('section', { 'aria-labelledby': 'deployments-h' },
        h('h2', { id: 'deployments-h' }, 'Deployments'),
        table({
          id: 'deployments-table',
          caption: `${deps.length} deployment${deps.length === 1 ? '' : 's'}`,
          columns: [{ key: 'name', label: 'Name' }, { key: 'namespace', label: 'Namespace' }, { key: 'ready', label: 'Ready' },
            { key: 'updated', label: 'Up-to-date' }, { key: 'available', label: 'Available' }, { key: 'revision', label: 'Revision' },
            { key: 'images', label: 'Images' }, { key: 'actions', label: 'Actions' }],
          rows: deps.map(depRow),
          empty: loading || 'No deployments. Create one on the Apply page.',
        }),
        deps.length ? h('h3', null, 'Revision history') : null,
        h('div', { class: 'details-list' }, deps.map(history))),
      h('section', { 'aria-labelledby': 'replicasets-h' },
        h('h2', { id: 'replicasets-h' }, 'ReplicaSets'),
        table({
          id: 'replicasets-table',
          caption: `${rss.length} ReplicaSet${rss.length === 1 ? '' : 's'}`,
          columns: [{ key: 'name', label: 'Name' }, { key: 'namespace', label: 'Namespace' }, { key: 'revision', label: 'Revision' },
            { key: 'desired', label: 'Desired' }, { key: 'current', label: 'Current' }, { key: 'ready', label: 'Ready' },
            { key: 'owner', label: 'Owner' }, { key: 'age', label: 'Age' }],
          rows: rss.map(rsRow),
          empty: loading || 'No ReplicaSets.',
        })),
    ];
  }

  /* ---- scaling, restart, undo ------------------------------------------------------ */

  function target(btn) {
    const k = btn.getAttribute('data-deployment');
    const [ns, name] = split(k);
    return { k, ns, name, path: api.paths.deployment(ns, name), dep: S.deployments.get(k) };
  }

  async function scaleTo(btn, t, n) {
    const now = num(t.dep && t.dep.spec && t.dep.spec.replicas);
    if (n === 0 && now !== 0 && !(await confirm(`Scale ${t.k} to 0? All of its pods will be deleted.`))) return;
    await busy(btn, async () => {
      await api.patch(`${t.path}/scale`, { spec: { replicas: n } });
      toast(`Scaled ${t.k} to ${n}`);
      // A typed-in box stops following the live value; swap in a fresh one that does.
      const input = replicasInput(t.k);
      if (input && input !== document.activeElement) {
        const fresh = document.createElement('input'); // (cloneNode would copy the dirty flag)
        for (const a of input.attributes) fresh.setAttribute(a.name, a.value);
        fresh.setAttribute('value', String(n));
        input.replaceWith(fresh);
      }
    });
  }

  const replicasInput = (k) => [...document.querySelectorAll('input[data-replicas-for]')]
    .find((i) => i.getAttribute('data-replicas-for') === k);

  const current = (t) => num(t.dep && t.dep.spec && t.dep.spec.replicas);

  function setReplicas(btn) {
    const t = target(btn);
    const input = replicasInput(t.k);
    const n = input ? Number(input.value) : NaN;
    if (!input || input.value.trim() === '' || !Number.isInteger(n) || n < 0) {
      toast(`Replicas for ${t.k} must be a whole number ≥ 0`, true);
      if (input) input.focus();
      return undefined;
    }
    return scaleTo(btn, t, n);
  }

  async function restart(btn) {
    const t = target(btn);
    await busy(btn, async () => {
      const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await api.patch(t.path, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });
      toast(`Restarted ${t.k}`);
    });
  }

  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  /** The JSON merge patch that turns `from` into `to` (keys missing in `to` become null). */
  function mergeDiff(from, to) {
    if (!isObj(from) || !isObj(to)) return to;
    const out = {};
    for (const k of Object.keys(from)) if (!(k in to)) out[k] = null;
    for (const [k, v] of Object.entries(to)) out[k] = isObj(v) && isObj(from[k]) ? mergeDiff(from[k], v) : v;
    return out;
  }
  const stable = (v) => (Array.isArray(v) ? `[${v.map(stable).join(',')}]`
    : isObj(v) ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}` : JSON.stringify(v));

  function withoutHash(template) {
    const t = JSON.parse(JSON.stringify(template || {}));
    if (t.metadata && t.metadata.labels) delete t.metadata.labels['pod-template-hash'];
    return t;
  }

  async function undo(btn) {
    const t = target(btn);
    if (!(await confirm(`Roll back ${t.k} to its previous revision?`))) return;
    await busy(btn, async () => {
      const dep = await api.get(t.path);
      const list = await api.get(api.paths.replicasets(t.ns));
      const owned = M.ownedReplicaSets(dep, (list && list.items) || []);
      const cur = M.revisionOf(dep) || (owned.length ? M.revisionOf(owned[0]) : 0);
      const prev = owned.find((rs) => { const r = M.revisionOf(rs); return r > 0 && r < cur; });
      if (!prev) {
        toast(`${t.k}: no previous revision to roll back to`, true);
        return;
      }
      const template = withoutHash(prev.spec && prev.spec.template);
      if (stable(withoutHash(dep.spec && dep.spec.template)) === stable(template)) {
        toast(`${t.k}: skipped rollback (current template already matches revision ${M.revisionOf(prev)})`);
        return;
      }
      await api.patch(t.path, { spec: { template: mergeDiff((dep.spec && dep.spec.template) || {}, template) } });
      toast(`Rolled back ${t.k} to revision ${M.revisionOf(prev)}`);
    });
  }

  /* ---- edit dialog ------------------------------------------------------------------ */

  let dialog = null;
  let editing = null; // {t, dep, opener}

  function buildDialog() {
    const f = (id, label, control, hint) => h('div', { class: 'field' },
      h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null, control);
    dialog = h('dialog', { id: 'edit-dialog', 'aria-labelledby': 'edit-title' },
      h('form', { id: 'edit-form', class: 'edit-form' },
        h('h2', { id: 'edit-title' }, 'Edit deployment'),
        f('edit-container', 'Container', h('select', { id: 'edit-container' })),
        f('edit-image', 'Image', h('input', { id: 'edit-image', type: 'text', required: true, spellcheck: 'false', autocomplete: 'off' })),
        f('edit-command', 'Command', h('textarea', { id: 'edit-command', rows: 3, spellcheck: 'false', 'aria-describedby': 'edit-command-hint' }),
          'One argument per line; leave empty to use the image’s entrypoint.'),
        f('edit-env', 'Environment', h('textarea', { id: 'edit-env', rows: 5, spellcheck: 'false', 'aria-describedby': 'edit-env-hint' }),
          'One NAME=value per line.'),
        h('p', { id: 'edit-note', class: 'hint' }),
        h('p', { id: 'edit-error', class: 'error-text', role: 'alert' }),
        h('div', { class: 'dialog-buttons' },
          h('button', { type: 'button', id: 'edit-cancel' }, 'Cancel'),
          h('button', { type: 'submit', id: 'edit-save', class: 'primary' }, 'Save'))));
    document.body.appendChild(dialog);
    dialog.querySelector('#edit-cancel').addEventListener('click', () => dialog.close());
    dialog.querySelector('#edit-container').addEventListener('change', () => fillContainer());
    dialog.querySelector('#edit-form').addEventListener('submit', (e) => { e.preventDefault(); save(); });
    dialog.addEventListener('close', () => {
      const opener = editing && editing.opener;
      editing = null;
      if (opener && opener.isConnected) opener.focus();
    });
  }

  const containersOf = (dep) => podSpec(dep).containers || [];

  function fillContainer() {
    const name = dialog.querySelector('#edit-container').value;
    const c = containersOf(editing.dep).find((x) => x.name === name) || {};
    dialog.querySelector('#edit-image').value = c.image || '';
    dialog.querySelector('#edit-command').value = (c.command || []).join('\n');
    const env = c.env || [];
    dialog.querySelector('#edit-env').value = env.filter((e) => !e.valueFrom).map((e) => `${e.name}=${e.value || ''}`).join('\n');
    const kept = env.filter((e) => e.valueFrom).map((e) => e.name);
    dialog.querySelector('#edit-note').textContent = kept.length
      ? `Kept unchanged (set from valueFrom): ${kept.join(', ')}.` : '';
    dialog.querySelector('#edit-error').textContent = '';
  }

  async function edit(btn) {
    const t = target(btn);
    await busy(btn, async () => {
      const dep = await api.get(t.path);
      if (!dialog) buildDialog();
      editing = { t, dep, opener: btn };
      dialog.querySelector('#edit-title').textContent = `Edit ${t.k}`;
      dialog.querySelector('#edit-container').replaceChildren(
        ...containersOf(dep).map((c) => h('option', { value: c.name }, c.name)));
      fillContainer();
      dialog.showModal();
      dialog.querySelector('#edit-image').focus();
    });
  }

  function parseEnv(text) {
    const out = [];
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      if (!line.trim()) return;
      const eq = line.indexOf('=');
      const name = eq < 0 ? '' : line.slice(0, eq).trim();
      if (!name || /\s/.test(name)) throw new Error(`Environment line ${i + 1}: expected NAME=value`);
      out.push({ name, value: line.slice(eq + 1) });
    });
    return out;
  }

  async function save() {
    const { t } = editing;
    const errEl = dialog.querySelector('#edit-error');
    const cname = dialog.querySelector('#edit-container').value;
    const image = dialog.querySelector('#edit-image').value.trim();
    const command = dialog.querySelector('#edit-command').value.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim());
    let env;
    try {
      if (!image) throw new Error('The image is required.');
      env = parseEnv(dialog.querySelector('#edit-env').value);
    } catch (e) {
      errEl.textContent = e.message;
      return;
    }
    errEl.textContent = '';
    await busy(dialog.querySelector('#edit-save'), async () => {
      try {
        const dep = await api.get(t.path); // keeps metadata.resourceVersion for the PUT
        const c = containersOf(dep).find((x) => x.name === cname);
        if (!c) throw new Error(`Container ${cname} is no longer in ${t.k}.`);
        c.image = image;
        if (command.length) c.command = command;
        else delete c.command;
        const names = new Set(env.map((e) => e.name));
        const kept = (c.env || []).filter((e) => e.valueFrom && !names.has(e.name));
        if (env.length || kept.length) c.env = [...env, ...kept];
        else delete c.env;
        await api.put(t.path, dep);
        dialog.close();
        toast(`Updated container ${cname} of ${t.k}`);
      } catch (e) {
        errEl.textContent = errorText(e);
        throw e;
      }
    });
  }

  /* ---- view ------------------------------------------------------------------------- */

  C.views = C.views || {};
  C.views.workloads = {
    title: 'Workloads',
    render,
    watch: ['deployments', 'replicasets'],
    actions: {
      'scale-up': (btn) => { const t = target(btn); return scaleTo(btn, t, current(t) + 1); },
      'scale-down': (btn) => {
        const t = target(btn);
        if (current(t) <= 0) { toast(`${t.k} is already at 0 replicas`, true); return undefined; }
        return scaleTo(btn, t, current(t) - 1);
      },
      'set-replicas': setReplicas,
      restart,
      undo,
      edit,
    },
    /** Enter in a replicas box presses its Set button. */
    onKeydown(e) {
      const k = e.target.getAttribute && e.target.getAttribute('data-replicas-for');
      if (k === null || k === undefined || e.key !== 'Enter') return;
      e.preventDefault();
      const btn = [...document.querySelectorAll('button[data-action="set-replicas"]')]
        .find((b) => b.getAttribute('data-deployment') === k);
      if (btn) setReplicas(btn);
    },
    mergeDiff,
  };
})();
