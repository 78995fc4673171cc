// plan.js: a dual-execution plan, as EXPLAIN and EXPLAIN ANALYZE of a split
// query answer it (the driver's explain_value, written by wasm/splitter.c
// and wasm/driver.c), turned into a tree for the inspector.
//
// The text, one operator per line:
//   (R) PROJECTION                       (L) or (R): the site it runs at,
//   (R)   JOIN INNER                     two spaces of indent per level
//   (R)     SCAN my_db.main.trips AS t
//   (R)     BRIDGE __md_b1_0 L->R memory.main.pets (est. 2 rows, 48 B)
//   (L)       SCAN memory.main.pets
// and after EXPLAIN ANALYZE:
//   BRIDGE __md_b1_0 L->R: 2 rows, 424 bytes, 3.1 ms
//   FINAL (R): 12.0 ms, its plan:
//   <DuckDB's own plan of the final query>

import { signal } from '@preact/signals';

/** The plan shown: {cell, key, nodes, bridges, final, text}, or null. */
export const shownPlan = signal(null);

const SITE = { L: 'local', R: 'remote' };
const OP = /^\((L|R)\) ((?: {2})*)(.*)$/;
const BRIDGE = /^BRIDGE (\S+) (L|R)->(L|R) (\S+)(?: as \S+, named by value)? \(est\. (\d+) rows, ([^)]+)\)$/;
const MEASURED = /^BRIDGE (\S+) (L|R)->(L|R): (\d+) rows, (\d+) bytes, ([\d.]+) ms$/;
const FINAL = /^FINAL \((L|R)\): ([\d.]+) ms, its plan:$/;

/**
 * The tree of an explain_value: {nodes: [{site, depth, text, bridge?}],
 * measured: {name: {rows, bytes, ms}}, final: {site, ms} | null,
 * text: DuckDB's plan of the final query (after ANALYZE)}.
 */
export function parsePlan(value) {
  const nodes = [];
  const measured = {};
  let final = null;
  const lines = String(value).split('\n');
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i];
    let m = line.match(OP);
    if (m) {
      const node = { site: SITE[m[1]], depth: m[2].length / 2, text: m[3] };
      const b = m[3].match(BRIDGE);
      if (b) {
        node.bridge = { name: b[1], from: SITE[b[2]], to: SITE[b[3]], relation: b[4], estRows: Number(b[5]), estBytes: b[6] };
      }
      nodes.push(node);
    } else if ((m = line.match(MEASURED))) {
      measured[m[1]] = { rows: Number(m[4]), bytes: Number(m[5]), ms: Number(m[6]) };
    } else if ((m = line.match(FINAL))) {
      final = { site: SITE[m[1]], ms: Number(m[2]) };
      i++;
      break;
    } else if (line.trim()) {
      break; // not the dual plan's text
    }
  }
  return { nodes, measured, final, text: lines.slice(i).join('\n').trim() };
}

/** If `result` is an EXPLAIN answer, show it: a split query's as a tree, any other's as DuckDB's text. */
export function showIfPlan(cell, result) {
  const cols = result?.columns?.map((c) => c.name) ?? [];
  if (cols.length !== 2 || cols[0] !== 'explain_key' || cols[1] !== 'explain_value' || !result.rows.length) return false;
  const key = String(result.rows[0].explain_key);
  const value = result.rows.map((r) => String(r.explain_value)).join('\n');
  const dual = key === 'dual_plan' || key === 'analyzed_plan';
  shownPlan.value = dual
    ? { cell: cell?.id ?? null, key, site: 'hybrid', ...parsePlan(value) }
    : { cell: cell?.id ?? null, key, site: result.site, nodes: [], measured: {}, final: null, text: value };
  return true;
}
