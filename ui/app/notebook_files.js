// notebook_files.js: a notebook as a file: export to .sql, .md and .ipynb,
// import from .sql and .ipynb.  Pure functions on plain cells
// {type, name, source} (doc.js).
//
// .sql: a script that runs as it is, with a marker line before each cell
// (the "percent" format of Jupytext, with SQL comments):
//
//   -- mdserver notebook: <title>
//   -- %% [sql] <name>          (the name only when the cell has one)
//   SELECT 1;
//
//   -- %% [markdown]
//   -- # A heading, each line commented out
//
// Cells are separated by one empty line; exporting and importing gives the
// same cells back.  A line of a SQL cell that itself starts with "-- %%"
// would start a new cell on import.  A .sql file without markers becomes
// one cell per statement, each with the comments before it: the statement
// spans come from the engine's lexer (engine.tokens), passed in.
//
// .ipynb: nbformat 4.5; SQL cells are code cells (a cell's name in its
// metadata.mdserver.name), the kernel says SQL.  On import, JupySQL's
// %%sql / %sql magics are taken off.  Raw cells become Markdown.

const HEADER = '-- mdserver notebook: ';
const MARKER = /^-- %%(?: \[(sql|markdown)\])?(?: (\S+))?[ \t]*$/;

const mdLine = (l) => (l === '' ? '--' : `-- ${l}`);
const unMdLine = (l) => (l.startsWith('-- ') ? l.slice(3) : l.startsWith('--') ? l.slice(2) : l);

/** The notebook as a .sql script. */
export function toSql(title, cells) {
  const parts = cells.map((c) => (c.type === 'markdown'
    ? `-- %% [markdown]\n${c.source.split('\n').map(mdLine).join('\n')}`
    : `-- %% [sql]${c.name ? ` ${c.name}` : ''}\n${c.source}`));
  return `${HEADER}${title.replaceAll('\n', ' ')}\n${parts.join('\n\n')}\n`;
}

/** A script cut after each statement (and its ';'), so comments stay with the statement they precede. */
function cutStatements(text, spans) {
  const out = [];
  let from = 0;
  spans.forEach((sp, i) => {
    let cut = sp.end;
    while (cut < text.length && /\s/.test(text[cut])) cut++;
    cut = text[cut] === ';' ? cut + 1 : sp.end;
    if (i === spans.length - 1) cut = text.length;
    out.push(text.slice(from, cut).trim());
    from = cut;
  });
  return out.filter(Boolean);
}

/**
 * Cells of a .sql file: resolves to {title, cells}.  `statements(text)`
 * gives (or resolves to) a marker-less script's statement spans
 * [{start, end}] (engine.tokens); without it such a file is one cell.
 */
export async function fromSql(text, { statements = null, title = 'Imported notebook' } = {}) {
  const lines = text.replaceAll('\r\n', '\n').split('\n');
  let at = 0;
  if (lines[0]?.startsWith(HEADER)) {
    title = lines[0].slice(HEADER.length).trim() || title;
    at = 1;
  }
  const starts = [];
  for (let i = at; i < lines.length; i++) if (MARKER.test(lines[i])) starts.push(i);
  if (!starts.length) {
    const body = lines.slice(at).join('\n');
    const stmts = statements ? cutStatements(body, await statements(body)) : [body.trim()].filter(Boolean);
    return { title, cells: (stmts.length ? stmts : ['']).map((source) => ({ type: 'sql', name: '', source })) };
  }
  const cells = [];
  if (lines.slice(at, starts[0]).join('\n').trim()) { // text before the first marker: a cell of its own
    cells.push({ type: 'sql', name: '', source: lines.slice(at, starts[0]).join('\n').trim() });
  }
  starts.forEach((s, k) => {
    const [, type = 'sql', name = ''] = lines[s].match(MARKER);
    const last = k === starts.length - 1;
    let body = lines.slice(s + 1, last ? lines.length : starts[k + 1]);
    // the exporter's separators: an empty line between cells, a newline at the end
    if (body.at(-1) === '') body = body.slice(0, -1);
    const source = type === 'markdown' ? body.map(unMdLine).join('\n') : body.join('\n');
    cells.push({ type, name: type === 'sql' ? name : '', source });
  });
  return { title, cells };
}

/** The notebook as Markdown: its Markdown cells as they are, SQL cells fenced. */
export function toMarkdown(title, cells) {
  const parts = [`# ${title}`];
  for (const c of cells) {
    if (c.type === 'markdown') { parts.push(c.source); continue; }
    const longest = Math.max(2, ...(c.source.match(/`+/g) ?? []).map((r) => r.length));
    const fence = '`'.repeat(longest + 1);
    parts.push(`${fence}sql${c.name ? ` name=${c.name}` : ''}\n${c.source}\n${fence}`);
  }
  return `${parts.join('\n\n')}\n`;
}

/** nbformat's multi-line string: lines that keep their newline. */
const nbLines = (s) => (s === '' ? [] : s.split(/(?<=\n)/));
const nbText = (src) => (Array.isArray(src) ? src.join('') : typeof src === 'string' ? src : '');

/** The notebook as a Jupyter notebook (the text of an .ipynb file). */
export function toIpynb(title, cells) {
  return `${JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      title,
      kernelspec: { name: 'duckdb', display_name: 'DuckDB (mdserver)', language: 'sql' },
      language_info: { name: 'sql' },
    },
    cells: cells.map((c, i) => (c.type === 'markdown'
      ? { cell_type: 'markdown', id: `cell-${i}`, metadata: {}, source: nbLines(c.source) }
      : {
        cell_type: 'code', id: `cell-${i}`, metadata: c.name ? { mdserver: { name: c.name } } : {},
        execution_count: null, outputs: [], source: nbLines(c.source),
      })),
  }, null, 1)}\n`;
}

/** JupySQL's cell and line magics, taken off a code cell. */
function stripMagics(src) {
  const cellMagic = src.match(/^%%sql\b[^\n]*\n?/);
  if (cellMagic) return src.slice(cellMagic[0].length);
  return src.replace(/^%sql[ \t]+/gm, '');
}

/** Cells of an .ipynb file's text: {title, cells}.  Throws on text that is not one. */
export function fromIpynb(text, { title = 'Imported notebook' } = {}) {
  const nb = JSON.parse(text);
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells) || typeof nb.nbformat !== 'number') {
    throw new Error('not a Jupyter notebook (.ipynb): it has no "cells" or "nbformat"');
  }
  const cells = nb.cells.map((c) => {
    const source = nbText(c?.source);
    if (c?.cell_type === 'code') {
      const name = c.metadata?.mdserver?.name;
      return { type: 'sql', name: typeof name === 'string' ? name : '', source: stripMagics(source) };
    }
    return { type: 'markdown', name: '', source };
  });
  return { title: typeof nb.metadata?.title === 'string' && nb.metadata.title ? nb.metadata.title : title, cells };
}
