// ResultTable.jsx: a result's first rows (the results panel of the next
// issue replaces it).  Values and types are shown as the query page shows
// them (/js/rows.js): numbers right-aligned, NULL apart from ''.

import { isNumeric, sqlType, valueText } from '/js/rows.js';
import './ResultTable.css';

export function ResultTable({ result }) {
  const cols = result?.columns ?? [];
  if (!cols.length) return null;
  return (
    <div class="result" data-testid="cell-results">
      <table>
        <thead>
          <tr>{cols.map((c) => <th>{c.name} <small>{sqlType(c)}</small></th>)}</tr>
        </thead>
        <tbody>
          {(result.rows ?? []).map((row) => (
            <tr>
              {cols.map((c) => {
                const text = valueText(row[c.name], c);
                return <td class={text === null ? 'null' : isNumeric(c) ? 'num' : ''}>{text ?? 'NULL'}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
