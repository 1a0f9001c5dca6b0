// The reference page's script, first part: its state, DOM helpers and how a schema is shown.

// It opens the function that SCRIPT_OPERATIONS (docs-page-operations.ts) goes on with and closes.
export const SCRIPT_SCHEMAS = String.raw`
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
`;
