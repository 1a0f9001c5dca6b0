import { createHash } from 'node:crypto';

// The reference page at /api/docs: one HTML document with its style and script inline, no
// CDN and no bundler (a viewer package would be a supply-chain dependency for ~200 lines, and
// the tests run offline). It fetches openapi.json next to it and renders it with DOM calls
// (textContent only, never innerHTML). String.raw keeps the script's regex escapes intact.

const STYLE = `
:root { color-scheme: light dark; --line: #8884; --muted: #888; --accent: #2563eb; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 16rem 1fr; }
header { grid-column: 1 / 3; padding: 1rem 1.5rem; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
nav { padding: 1rem; border-right: 1px solid var(--line); position: sticky; top: 0; align-self: start;
  max-height: 100vh; overflow: auto; font-size: .9rem; }
nav h2 { font-size: .8rem; text-transform: uppercase; color: var(--muted); margin: 1rem 0 .25rem; }
nav a { display: block; color: inherit; text-decoration: none; padding: .1rem 0; }
nav a:hover { color: var(--accent); }
main { padding: 1rem 1.5rem; min-width: 0; }
.prose { white-space: pre-line; }
code, pre, textarea, input { font: 13px/1.4 ui-monospace, monospace; }
details.op { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; }
details.op > summary { cursor: pointer; padding: .5rem .75rem; display: flex; gap: .75rem; align-items: baseline; }
details.op > div { padding: 0 .75rem .75rem; }
.method { font-weight: 700; min-width: 4rem; }
.get { color: #16a34a; } .post { color: #2563eb; } .delete { color: #dc2626; } .put, .patch { color: #d97706; }
.scope { margin-left: auto; font-size: .8rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .25rem 0; }
td, th { text-align: left; vertical-align: top; padding: .2rem .5rem; border-top: 1px solid var(--line); }
th { font-size: .8rem; color: var(--muted); font-weight: 600; }
.req { color: #dc2626; }
.note { color: var(--muted); font-size: .85rem; }
.status { font-weight: 700; margin-right: .5rem; }
form.try { border-top: 1px dashed var(--line); margin-top: .75rem; padding-top: .5rem; display: grid; gap: .4rem; }
form.try label { display: grid; grid-template-columns: 12rem 1fr; gap: .5rem; align-items: center; }
textarea { width: 100%; box-sizing: border-box; }
pre.out { padding: .5rem; border-radius: 4px; border: 1px solid var(--line); overflow: auto; max-height: 30rem; }
pre.ok { border-color: #16a34a; } pre.bad { border-color: #dc2626; }
#token { width: 28rem; max-width: 100%; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var doc;
  var apiBase = location.pathname.replace(/\/docs\/?$/, '');
  var root = apiBase.replace(/\/api$/, '');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (key === 'text') node.textContent = value;
      else if (key === 'class') node.className = value;
      else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    });
    (children || []).forEach(function (child) { if (child !== null && child !== undefined) node.append(child); });
    return node;
  }

  // Text with backtick spans as code, nothing interpreted as HTML.
  function prose(text, tag) {
    var node = el(tag || 'p', { class: 'prose' });
    String(text).split('\x60').forEach(function (part, i) {
      node.append(i % 2 ? el('code', { text: part }) : document.createTextNode(part));
    });
    return node;
  }

  function lookup(ref) {
    return ref.slice(2).split('/').reduce(function (node, part) {
      return node === undefined || node === null ? undefined : node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }, doc);
  }
  function deref(value) {
    for (var hops = 0; value && value.$ref && hops < 20; hops++) value = lookup(value.$ref);
    return value || {};
  }
  function refName(ref) { return ref.split('/').pop(); }

  function typeLabel(schema) {
    if (schema === false) return ['nothing'];
    if (!schema || typeof schema !== 'object') return ['any'];
    if (schema.$ref) return [el('a', { href: '#schema-' + refName(schema.$ref), text: refName(schema.$ref) })];
    if (schema.const !== undefined) return [JSON.stringify(schema.const)];
    if (schema.enum) return [schema.enum.map(function (v) { return JSON.stringify(v); }).join(' | ')];
    var branches = schema.anyOf || schema.oneOf;
    if (branches) {
      return branches.reduce(function (parts, branch, i) { return parts.concat(i ? [' | '] : [], typeLabel(branch)); }, []);
    }
    var types = Array.isArray(schema.type) ? schema.type : [schema.type || 'any'];
    return types.reduce(function (parts, type, i) {
      var label = [type];
      if (type === 'array' && schema.prefixItems) label = ['[', String(schema.prefixItems.map(function (s) { return JSON.stringify(s.const); })), ']'];
      else if (type === 'array') {
        var item = typeLabel(schema.items);
        label = (item.length > 1 || /\|/.test(item[0]) ? ['('].concat(item, [')']) : item).concat(['[]']);
      }
      else if (type === 'object' && !schema.properties && schema.additionalProperties) {
        label = ['map of '].concat(typeLabel(schema.additionalProperties));
      }
      return parts.concat(i ? [' | '] : [], label);
    }, []);
  }

  function constraints(schema) {
    if (!schema || typeof schema !== 'object') return '';
    var notes = [];
    if (schema.format) notes.push(schema.format);
    if (schema.minLength !== undefined || schema.maxLength !== undefined) notes.push('length ' + (schema.minLength || 0) + '..' + (schema.maxLength === undefined ? '' : schema.maxLength));
    if (schema.minimum !== undefined || schema.maximum !== undefined) notes.push((schema.minimum === undefined ? '' : schema.minimum) + '..' + (schema.maximum === undefined || schema.maximum > 1e15 ? '' : schema.maximum));
    if (schema.minItems !== undefined || schema.maxItems !== undefined) notes.push('items ' + (schema.minItems || 0) + '..' + (schema.maxItems === undefined ? '' : schema.maxItems));
    if (schema.pattern && !schema.format) notes.push('pattern ' + schema.pattern);
    if (schema.default !== undefined) notes.push('default ' + JSON.stringify(schema.default));
    return notes.join(', ');
  }

  // The object to show as a nested table: the schema itself, its items, or a branch of anyOf.
  function inlineObject(schema) {
    if (!schema || typeof schema !== 'object' || schema.$ref) return null;
    if (schema.properties) return schema;
    if (schema.items) return inlineObject(schema.items);
    var branches = schema.anyOf || schema.oneOf || [];
    for (var i = 0; i < branches.length; i++) { var found = inlineObject(branches[i]); if (found) return found; }
    return null;
  }

  function schemaView(schema) {
    var object = inlineObject(schema);
    if (!object) {
      return el('div', null, [el('code', null, typeLabel(schema)), ' ', el('span', { class: 'note', text: constraints(schema) })]);
    }
    var wrapper = el('div', null, object === schema ? [] : [el('code', null, typeLabel(schema))]);
    var required = object.required || [];
    var rows = Object.keys(object.properties).map(function (name) {
      var property = object.properties[name];
      var nested = inlineObject(property);
      return el('tr', null, [
        el('td', null, [el('code', { text: name }), required.indexOf(name) >= 0 ? el('span', { class: 'req', text: ' *' }) : null]),
        el('td', null, [
          el('code', null, typeLabel(property)), ' ', el('span', { class: 'note', text: constraints(property) }),
          property.description ? prose(property.description, 'div') : null,
          nested ? schemaView(nested) : null,
        ]),
      ]);
    });
    wrapper.append(el('table', null, [el('tr', null, [el('th', { text: 'field' }), el('th', { text: 'type' })])].concat(rows)));
    if (object.additionalProperties === false) wrapper.append(el('div', { class: 'note', text: 'No other fields.' }));
    return wrapper;
  }

  function example(schema, depth) {
    schema = deref(schema);
    if ((depth || 0) > 6) return null;
    if (schema.default !== undefined) return schema.default;
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    if (schema.anyOf) return example(schema.anyOf[0], (depth || 0) + 1);
    var type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'object') {
      var value = {};
      (schema.required || []).forEach(function (key) { value[key] = example(schema.properties[key], (depth || 0) + 1); });
      return value;
    }
    if (type === 'array') return schema.prefixItems ? schema.prefixItems.map(function (s) { return example(s, (depth || 0) + 1); }) : [example(schema.items, (depth || 0) + 1)];
    if (type === 'string') return schema.format === 'date-time' ? new Date().toISOString() : '';
    if (type === 'integer' || type === 'number') return schema.minimum || 0;
    if (type === 'boolean') return false;
    return null;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function send(method, path, fields, body, out) {
    var headers = new Headers();
    var query = new URLSearchParams();
    var url = root + path.replace(/\{(\w+)\}/g, function (_, name) {
      var field = fields.filter(function (f) { return f.param.in === 'path' && f.param.name === name; })[0];
      return encodeURIComponent(field ? field.input.value : '');
    });
    fields.forEach(function (field) {
      var value = field.input.value.trim();
      if (!value) return;
      if (field.param.in === 'query') query.set(field.param.name, value);
      if (field.param.in === 'header') headers.set(field.param.name, value);
    });
    var token = document.getElementById('token').value.trim();
    if (token) headers.set('authorization', 'Bearer ' + token);
    var init = { method: method.toUpperCase(), headers: headers };
    if (body && body.value.trim()) { headers.set('content-type', 'application/json'); init.body = body.value; }
    var search = query.toString();
    out.className = 'out';
    out.textContent = init.method + ' ' + url + (search ? '?' + search : '') + ' …';
    fetch(url + (search ? '?' + search : ''), init).then(function (response) {
      return response.text().then(function (text) {
        var lines = [response.status + ' ' + response.statusText];
        ['content-type', 'idempotent-replayed', 'www-authenticate', 'cache-control'].forEach(function (name) {
          if (response.headers.get(name)) lines.push(name + ': ' + response.headers.get(name));
        });
        var shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* not JSON: as is */ }
        out.className = 'out ' + (response.ok ? 'ok' : 'bad');
        out.textContent = lines.join('\n') + '\n\n' + shown;
      });
    }, function (error) {
      out.className = 'out bad';
      out.textContent = 'The request failed: ' + error.message;
    });
  }

  function tryIt(path, method, params, bodySchema) {
    var fields = params.map(function (param) {
      var schema = param.schema || {};
      var input = el('input', { name: param.name, placeholder: schema.default === undefined ? constraints(schema) : String(schema.default) });
      if (param.name === 'Idempotency-Key') input.value = newKey();
      return { param: param, input: input };
    });
    var body = bodySchema ? el('textarea', { rows: '5', spellcheck: 'false' }) : null;
    if (body) body.value = JSON.stringify(example(bodySchema), null, 2);
    var out = el('pre', { class: 'out', text: 'No request sent yet.' });
    var form = el('form', { class: 'try' }, [el('strong', { text: 'Try it' })].concat(
      fields.map(function (field) {
        var extra = field.param.name === 'Idempotency-Key'
          ? el('button', { type: 'button', text: 'New key', onclick: function () { field.input.value = newKey(); } })
          : null;
        return el('label', null, [
          el('span', null, [field.param.name + ' (' + field.param.in + ')', field.param.required ? el('span', { class: 'req', text: ' *' }) : null]),
          el('span', null, [field.input, extra]),
        ]);
      }),
      body ? [el('span', { class: 'note', text: 'JSON body' }), body] : [],
      [el('div', null, [el('button', { type: 'submit', text: 'Send' })]), out]
    ));
    form.addEventListener('submit', function (event) { event.preventDefault(); send(method, path, fields, body, out); });
    return form;
  }

  function operationView(path, method, op) {
    var scopes = (op.security || []).map(function (s) { return (s.bearer || []).join(', '); }).filter(Boolean);
    var params = (op.parameters || []).map(deref);
    var requestBody = op.requestBody && deref(op.requestBody);
    var bodySchema = requestBody && requestBody.content && requestBody.content['application/json'] && requestBody.content['application/json'].schema;
    var parts = [];
    if (op.description) parts.push(prose(op.description));
    if (params.length) {
      parts.push(el('h4', { text: 'Parameters' }), el('table', null, [el('tr', null, ['name', 'in', 'type'].map(function (h) { return el('th', { text: h }); }))].concat(
        params.map(function (p) {
          return el('tr', null, [
            el('td', null, [el('code', { text: p.name }), p.required ? el('span', { class: 'req', text: ' *' }) : null]),
            el('td', { text: p.in }),
            el('td', null, [schemaView(p.schema), p.description ? prose(p.description, 'div') : null]),
          ]);
        }))));
    }
    if (bodySchema) parts.push(el('h4', { text: 'Request body' + (requestBody.required ? '' : ' (optional)') }), schemaView(bodySchema));
    parts.push(el('h4', { text: 'Responses' }));
    Object.keys(op.responses || {}).forEach(function (status) {
      var response = deref(op.responses[status]);
      var content = response.content || {};
      var type = Object.keys(content)[0];
      parts.push(el('div', null, [
        el('span', { class: 'status', text: status }), prose(response.description || '', 'span'),
        type && type !== 'application/json' ? el('span', { class: 'note', text: ' (' + type + ')' }) : null,
        type ? schemaView(content[type].schema) : null,
      ]));
    });
    parts.push(tryIt(path, method, params, bodySchema));
    return el('details', { class: 'op', id: 'op-' + op.operationId }, [
      el('summary', null, [
        el('span', { class: 'method ' + method, text: method.toUpperCase() }),
        el('code', { text: path }), el('span', { text: op.summary || '' }),
        el('span', { class: 'scope', text: scopes.length ? 'scope: ' + scopes.join(' or ') : 'public' }),
      ]),
      el('div', null, parts),
    ]);
  }

  function render() {
    document.title = doc.info.title;
    document.getElementById('title').textContent = doc.info.title + ' ' + doc.info.version;
    document.getElementById('description').replaceWith(prose(doc.info.description || ''));
    var nav = document.getElementById('nav');
    var main = document.getElementById('main');
    main.textContent = '';
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ['Other'])[0];
        (byTag[tag] = byTag[tag] || []).push(operationView(path, method, op));
      });
    });
    (doc.tags || []).map(function (t) { return t.name; }).concat(Object.keys(byTag)).filter(function (tag, i, all) {
      return byTag[tag] && all.indexOf(tag) === i;
    }).forEach(function (tag) {
      nav.append(el('h2', { text: tag }));
      main.append(el('h2', { text: tag }));
      byTag[tag].forEach(function (view) {
        main.append(view);
        var summary = view.querySelector('summary');
        nav.append(el('a', { href: '#' + view.id, text: summary.querySelector('.method').textContent + ' ' + summary.querySelector('code').textContent }));
      });
    });
    var schemas = (doc.components && doc.components.schemas) || {};
    nav.append(el('h2', { text: 'Schemas' }));
    main.append(el('h2', { text: 'Schemas' }));
    Object.keys(schemas).forEach(function (name) {
      nav.append(el('a', { href: '#schema-' + name, text: name }));
      main.append(el('section', { id: 'schema-' + name }, [
        el('h3', { text: name }), schemas[name].description ? prose(schemas[name].description) : null, schemaView(schemas[name]),
      ]));
    });
    openTarget();
  }

  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === 'DETAILS') { target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener('hashchange', openTarget);

  fetch(apiBase + '/openapi.json').then(function (response) {
    if (!response.ok) throw new Error('openapi.json answered ' + response.status);
    return response.json();
  }).then(function (json) { doc = json; render(); }, function (error) {
    document.getElementById('main').textContent = 'Could not load the API description: ' + error.message;
  });
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1 id="title">API reference</h1>
<p id="description"></p>
<label>Bearer token <input id="token" type="password" autocomplete="off" placeholder="sbk_… (kept in this page only)"></label>
</header>
<nav id="nav"></nav>
<main id="main"><p>Loading the API description…</p></main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * Only this page's own style and script run (by hash), requests go to this origin only, and
 * nothing may frame it: a token typed here cannot leave for another site.
 */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
