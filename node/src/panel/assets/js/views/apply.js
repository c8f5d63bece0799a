/* Capstan panel — views/apply.js  (#/apply)
 * A manifest editor posting to /ui/api/apply; lists what was created/configured/unchanged
 * like kubectl, or the error with one list item per cause (data-field). The text survives
 * navigating away and back (kept in memory). */
(() => {
  'use strict';
  const C = (window.Capstan = window.Capstan || {});
  const { h, toast, busy } = C.ui;

  let draft = '';
  let lastResult = null; // the result area's last content, re-shown on return

  const GROUPS = {
    Deployment: 'apps', ReplicaSet: 'apps', StatefulSet: 'apps', DaemonSet: 'apps', ControllerRevision: 'apps',
    Job: 'batch', CronJob: 'batch', Ingress: 'networking.k8s.io', NetworkPolicy: 'networking.k8s.io',
    HorizontalPodAutoscaler: 'autoscaling', PodDisruptionBudget: 'policy',
    Role: 'rbac.authorization.k8s.io', RoleBinding: 'rbac.authorization.k8s.io',
    ClusterRole: 'rbac.authorization.k8s.io', ClusterRoleBinding: 'rbac.authorization.k8s.io',
  };
  /** kubectl's "deployment.apps/web" / "service/web"; `kind` may be "Deployment" or already
   *  qualified ("deployment.apps"). */
  function ref(r) {
    const kind = String(r.kind || 'object');
    const q = /^[A-Z]/.test(kind) && GROUPS[kind] ? `${kind}.${GROUPS[kind]}` : kind;
    return `${q.toLowerCase()}/${r.name}`;
  }

  const resultList = (results) => h('ul', { class: 'results' }, results.map((r) => h('li', { 'data-action-result': r.action || '' },
    h('code', null, ref(r)), ` ${r.action || ''}`)));

  function render() {
    return [
      h('h1', null, 'Apply a manifest'),
      h('form', { id: 'apply-form', class: 'apply-form' },
        h('label', { for: 'apply-yaml' }, 'Manifest (YAML or JSON, several documents separated by ---)'),
        h('textarea', { id: 'apply-yaml', spellcheck: 'false', autocomplete: 'off', rows: 18, 'aria-describedby': 'apply-hint apply-result' }, draft),
        h('p', { id: 'apply-hint', class: 'hint' },
          'Objects that exist are merge-patched, the others created (like kubectl apply). Ctrl+Enter applies.'),
        h('div', { class: 'form-buttons' }, h('button', { type: 'submit', id: 'apply-submit', class: 'primary' }, 'Apply'))),
      h('div', { id: 'apply-result', role: 'status', class: 'apply-result' }, lastResult ? lastResult.cloneNode(true) : null),
    ];
  }

  function show(content, invalid) {
    const area = document.getElementById('apply-result');
    const ta = document.getElementById('apply-yaml');
    if (ta) {
      if (invalid) ta.setAttribute('aria-invalid', 'true');
      else ta.removeAttribute('aria-invalid');
    }
    lastResult = content;
    if (area) area.replaceChildren(content.cloneNode(true));
  }

  function errorContent(e) {
    const body = (e && e.body) || {};
    const causes = body.causes || (body.details && body.details.causes) || [];
    const doc = Number.isInteger(body.document) ? body.document : null;
    return h('div', { class: 'result-error' },
      h('p', { class: 'error-text' }, h('strong', null, 'Error: '), C.ui.errorText(e)),
      doc === null ? null : h('p', { 'data-document': doc }, `In document ${doc + 1} of the manifest (index ${doc}).`),
      causes.length ? h('ul', { class: 'causes' }, causes.map((c) => h('li', { 'data-field': c.field || null },
        c.field ? h('code', null, c.field) : null, c.field ? `: ${c.message || ''}` : c.message || ''))) : null,
      Array.isArray(body.results) && body.results.length
        ? [h('p', null, 'Applied before the error:'), resultList(body.results)] : null);
  }

  async function submit() {
    const ta = document.getElementById('apply-yaml');
    const btn = document.getElementById('apply-submit');
    const yaml = ta.value;
    if (!yaml.trim()) {
      show(h('p', { class: 'error-text' }, 'Nothing to apply: paste a manifest first.'), true);
      ta.focus();
      return;
    }
    await busy(btn, async () => {
      try {
        const res = await C.api.apply(yaml);
        const results = (res && res.results) || [];
        show(h('div', { class: 'result-ok' },
          h('p', null, `Applied ${results.length} object${results.length === 1 ? '' : 's'}:`),
          resultList(results)), false);
        toast(results.length === 1 ? `${ref(results[0])} ${results[0].action}` : `Applied ${results.length} objects`);
      } catch (e) {
        if (e && e.status === 401) throw e;
        show(errorContent(e), true);
        throw e;
      }
    });
  }

  C.views = C.views || {};
  C.views.apply = {
    title: 'Apply',
    static: true,
    render,
    onSubmit(e) { e.preventDefault(); submit(); },
    onInput(e) {
      if (e.target.id !== 'apply-yaml') return;
      draft = e.target.value;
      e.target.removeAttribute('aria-invalid');
    },
    onKeydown(e) {
      if (e.target.id === 'apply-yaml' && e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        document.getElementById('apply-form').requestSubmit();
      }
    },
  };
})();
