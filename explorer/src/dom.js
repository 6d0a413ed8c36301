// DOM building without HTML parsing: every on-chain string reaches the page as a text node,
// so nothing a device owner or candidate wrote on chain can inject markup.

/**
 * A new `tag` element with `attributes` and `children`; strings and numbers become text nodes,
 * null and undefined are left out.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  element.append(...children.flat().filter((child) => child !== undefined && child !== null)
    .map((child) => (child instanceof Node ? child : String(child))));
  return element;
}

/**
 * Fills `table` with a header of `columns` (`[field, heading]` pairs) and one row per item of
 * `rows` (objects of cells by field, plus a `key` the row carries as `data-key`); `empty` says
 * what there is to see when there are no rows.
 */
export function fillTable(table, columns, rows, empty) {
  const head = h('thead', {}, h('tr', {}, columns.map(([, heading]) => h('th', {}, heading))));
  const body = rows.length === 0
    ? [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))]
    : rows.map((row) => h('tr', { 'data-key': row.key },
      columns.map(([field]) => h('td', { 'data-field': field }, row[field]))));
  table.replaceChildren(head, h('tbody', {}, body));
}

/** Sets the text of the element with id `id`. */
export function setText(id, text) {
  document.getElementById(id).textContent = text;
}
