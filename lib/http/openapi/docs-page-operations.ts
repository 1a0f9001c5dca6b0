// The reference page's script, second part: the operations, their try-it forms, rendering, loading.

// It goes on with the function SCRIPT_SCHEMAS (docs-page-schemas.ts) opens, and closes it.
export const SCRIPT_OPERATIONS = String.raw`
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
