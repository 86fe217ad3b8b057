'use strict';
// The Cairn dashboard. Reads the ordinary /v1 API with the token the operator entered (kept in this
// tab's sessionStorage only), so it shows exactly what that token may read, nothing more.
(() => {
  const KEY = 'cairn.token';
  const $ = id => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let config = {anonymousRead: false, prometheus: false};

  // --- formatting: every figure a person reads has a unit ---
  const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    let v = Number(n), u = 0;
    while (Math.abs(v) >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
    return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
  }
  const count = n => Number(n).toLocaleString('en-US');
  const rate = (unit) => v => unit === 'bytes' ? bytes(Math.round(v)) : unit === 'bytes/s' ? bytes(Math.round(v)) + '/s' : `${v.toFixed(2)} ${unit}`;
  const short = d => d.replace(/^sha256:/, '').slice(0, 12);
  const when = s => s > 0 ? new Date(s * 1000).toLocaleString() : 'not since start';

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  const td = (text, cls, attrs) => el('td', Object.assign({class: cls || '', text: String(text)}, attrs || {}));
  const bytesCell = n => td(bytes(n), 'num', {'data-bytes': String(n), title: `${count(n)} bytes`});

  // --- the API ---
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  async function api(path) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(path, {headers, cache: 'no-store'});
    if (!r.ok) {
      let body = {};
      try { body = await r.json(); } catch (e) { /* not JSON */ }
      throw new ApiError(r.status, body.error || `HTTP ${r.status}`, body.message || r.statusText);
    }
    return r;
  }
  const json = async path => (await api(path)).json();

  async function all(path, key) {
    // Follows "next" cursors; stops at 20 pages (2,000 entries) so a huge store cannot hang the page.
    const out = [];
    let after = null;
    for (let i = 0; i < 20; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const page = await json(path + sep + 'limit=100' + (after ? '&after=' + encodeURIComponent(after) : ''));
      out.push(...page[key]);
      if (!page.next) break;
      after = page.next;
    }
    return out;
  }

  function prom(text) {
    const m = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      const brace = line.indexOf('{');
      const name = line.slice(0, brace >= 0 && brace < sp ? brace : sp);
      const v = Number(line.slice(sp + 1));
      if (!Number.isNaN(v)) m[name] = (m[name] || 0) + v;
    }
    return m;
  }

  // --- views ---
  function showLogin(message) {
    $('dash').hidden = true;
    $('login').hidden = false;
    $('logout').hidden = true;
    $('refresh').hidden = true;
    $('who').textContent = '';
    $('login-error').textContent = message || '';
    $('token').focus();
  }

  function card(label, value, sub, id) {
    return el('div', {class: 'card', id: id || ''}, el('div', {class: 'label', text: label}),
      el('div', {class: 'value', text: value}), sub ? el('div', {class: 'sub', text: sub}) : null);
  }

  function labelOf(img) {
    return img.tags.length ? img.tags[0] : (img.private ? 'snapshot ' : '') + short(img.digest);
  }

  function renderSummary(stats) {
    $('summary').replaceChildren(
      card('Image versions', count(stats.images), `${count(stats.tags)} tags`, 'card-images'),
      card('Logical size', bytes(stats.logicalBytes), 'sum of image sizes', 'card-logical'),
      card('Stored', bytes(stats.storedBytes), `${count(stats.blocks)} distinct blocks`, 'card-stored'),
      card('Dedup ratio', `${Number(stats.dedupRatio).toFixed(2)}×`, 'data held per byte stored', 'card-dedup'),
      card('Overlays', count(stats.overlays), bytes(stats.overlayBytes) + ' of records', 'card-overlays'));
  }

  function renderImages(sharing) {
    const body = $('images').tBodies[0];
    body.replaceChildren(...sharing.images.map(img => el('tr', {'data-digest': img.digest},
      el('td', {}, ...(img.tags.length ? img.tags.map(t => el('span', {class: 'pill', text: t}))
        : [el('span', {class: 'pill private', text: img.private ? 'private snapshot' : 'untagged'})])),
      el('td', {class: 'digest', title: img.digest, text: short(img.digest)}),
      bytesCell(img.sizeBytes), bytesCell(img.dataBytes), bytesCell(img.uniqueBytes), bytesCell(img.sharedBytes),
      td(count(img.pages), 'num'))));
    $('truncated').hidden = !sharing.truncated;
    $('truncated').textContent = sharing.truncated ? `Only the first ${sharing.images.length} versions are compared.` : '';
    const labels = sharing.images.map(labelOf);
    Charts.heatmap($('heatmap'), labels, sharing.sharedBytes, sharing.images.map(i => i.distinctBytes), bytes);
    const byDigest = new Map(sharing.images.map(i => [i.digest, i]));
    Charts.lineage($('lineage'), sharing.images.map(i => ({id: i.digest, label: labelOf(i), private: i.private,
      sub: `${bytes(i.sizeBytes)} · ${short(i.digest)}`, title: i.digest})),
      sharing.lineage.filter(e => byDigest.has(e.parent)).map(e => ({from: e.parent, to: e.child,
        label: `${Math.round(100 * e.sharedPages / e.childPages)}% of pages`})));
  }

  function renderOverlays(users, overlays, names, blockSize) {
    const ub = $('users').tBodies[0];
    ub.replaceChildren(...users.users.map(u => {
      const used = u.quotaUsedBytes, quota = u.quotaBytes;
      const frac = quota ? Math.min(1, used / quota) : 0;
      const fill = el('span');
      fill.style.width = `${Math.round(frac * 100)}%`;
      return el('tr', {'data-user': u.name}, td(u.name), td(u.role), td(count(u.overlays), 'num'), bytesCell(used),
        quota === null ? td('no quota', 'num') : bytesCell(quota),
        el('td', {}, quota === null ? null : el('span', {class: 'bar' + (used > quota ? ' over' : ''), title: `${Math.round(frac * 100)}%`}, fill)));
    }));
    const ob = $('overlays').tBodies[0];
    if (!overlays.length) {
      ob.replaceChildren(el('tr', {}, el('td', {colspan: '6', class: 'empty', text: 'No overlays.'})));
      return;
    }
    ob.replaceChildren(...overlays.map(o => el('tr', {'data-overlay': `${o.owner}/${o.name}`},
      td(o.owner), td(o.name), el('td', {title: o.base, text: names.get(o.base) || short(o.base)}),
      bytesCell(o.size), bytesCell(o.dataBlocks * blockSize), td(new Date(o.created).toLocaleString()))));
  }

  function renderHealth(stats, m) {
    const dc = stats.diskCache || {};
    const get = k => m[k] || 0;
    $('health').replaceChildren(
      card('Disk cache used', bytes(dc.usedBytes), `of ${bytes(dc.budgetBytes)} budget`, 'card-cache-used'),
      card('Disk cache copies', count(dc.images || 0), `${count(dc.copies || 0)} made since start, ${count(dc.evictions || 0)} evicted`),
      card('Disk cache hits', count(dc.hits || 0), 'disk reads served from a copy'),
      card('GC runs', count(get('cairn_gc_runs_seconds_count')), `last: ${when(get('cairn_gc_last_run_timestamp_seconds'))}`, 'card-gc'),
      card('GC freed', bytes(get('cairn_gc_freed_bytes_total')), 'since start'),
      card('Verify runs', count(get('cairn_verify_runs_seconds_count')), `last: ${when(get('cairn_verify_last_run_timestamp_seconds'))}`, 'card-verify'),
      card('Verify problems', count(get('cairn_verify_last_problems')), `last run; ${count(get('cairn_verify_problems_total'))} in all runs`),
      card('Requests', count(stats.requests), `${bytes(stats.bytesServed)} served since start`));
  }

  async function renderHistory() {
    const box = $('history');
    if (!config.prometheus) {
      box.replaceChildren(el('p', {class: 'hint', text: 'No Prometheus configured (cairn serve --prometheus URL): the panels above show current values only.'}));
      return;
    }
    const h = await json('/v1/stats/history');
    box.replaceChildren();
    for (const s of h.series) {
      if (s.error) box.append(el('p', {class: 'error', text: `${s.title}: ${s.error}`}));
      else Charts.line(box, `${s.title} (${s.unit})`, s.points, rate(s.unit));
    }
  }

  async function load() {
    $('login').hidden = true;
    $('dash').hidden = false;
    $('load-error').textContent = '';
    let me = null;
    if (token) {
      me = await json('/v1/users');
      $('who').textContent = `${me.you.name} (${me.you.role})`;
      $('logout').hidden = false;
    } else {
      $('who').textContent = 'anonymous (read only)';
    }
    $('refresh').hidden = false;
    const [stats, sharing, tags, metrics] = await Promise.all([json('/v1/stats'), json('/v1/stats/sharing'),
      all('/v1/tags', 'tags'), api('/metrics').then(r => r.text())]);
    renderSummary(stats);
    renderImages(sharing);
    renderHealth(stats, prom(metrics));
    const names = new Map();
    tags.forEach(t => { if (!names.has(t.digest)) names.set(t.digest, t.tag); });
    if (me) {
      const overlays = await all(me.you.role === 'admin' ? '/v1/overlays?all=true' : '/v1/overlays', 'overlays');
      renderOverlays(me, overlays, names, stats.blockSize);
      $('overlays-panel').hidden = false;
    } else {
      $('overlays-panel').hidden = true;
    }
    await renderHistory();
    document.body.dataset.loaded = 'true';
  }

  async function start(fromLogin) {
    document.body.dataset.loaded = 'false';
    try {
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        const had = token;
        sessionStorage.removeItem(KEY);
        token = null;
        showLogin(had ? `The server refused this token (401 ${e.code}): ${e.message}` : '');
        if (fromLogin) $('login-error').dataset.status = '401';
        return;
      }
      $('load-error').textContent = `Could not load the dashboard: ${e.code ? e.code + ': ' : ''}${e.message}`;
    }
  }

  async function login() {
    const t = $('token').value.trim();
    if (!t) {
      $('login-error').textContent = 'Enter a token.';
      return;
    }
    token = t;
    sessionStorage.setItem(KEY, t);
    $('token').value = '';
    await start(true);
  }

  document.addEventListener('DOMContentLoaded', async () => {
    $('login-button').addEventListener('click', login);
    $('token').addEventListener('keydown', e => { if (e.key === 'Enter') login(); });
    $('logout').addEventListener('click', () => { sessionStorage.removeItem(KEY); token = null; showLogin(''); });
    $('refresh').addEventListener('click', () => start(false));
    try {
      config = await (await fetch('config.json', {cache: 'no-store'})).json();
    } catch (e) { /* defaults: login needed, no history */ }
    if (token || config.anonymousRead) await start(false); else showLogin('');
  });
})();
