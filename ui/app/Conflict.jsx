// Conflict.jsx: the open notebook was saved elsewhere (another tab or
// window) since this page's copy was made.  Nothing was overwritten: the
// cells show this tab's version (mine), the banner compares both, and the
// user keeps mine, the other one, or both (mine then becomes a new notebook).

import { parseDoc } from './doc.js';
import { conflict, notebookText, resolveConflict } from './notebooks.js';
import './Conflict.css';

function Version({ label, content }) {
  let cells;
  try {
    cells = parseDoc(content);
  } catch (e) {
    cells = [{ type: 'markdown', source: e.message }];
  }
  return (
    <div class="version">
      <h3>{label}</h3>
      {cells.map((c) => <pre class={c.type}>{c.source || ' '}</pre>)}
    </div>
  );
}

export function Conflict() {
  const c = conflict.value;
  if (!c) return null;
  const act = (choice) => resolveConflict(choice).catch(() => { /* notebookError says why */ });
  return (
    <div class="conflict" data-testid="conflict" role="alert">
      <p>
        <strong>This notebook was changed in another tab or window</strong> (now version {c.theirs.version}) while you
        were editing it here. Nothing has been overwritten: choose what to keep.
      </p>
      <div class="choices">
        <button data-testid="conflict-keep-mine" onClick={() => act('mine')}>Keep mine</button>
        <button data-testid="conflict-keep-theirs" onClick={() => act('theirs')}>Keep the other version</button>
        <button data-testid="conflict-keep-both" onClick={() => act('both')}>Keep both (mine as a new notebook)</button>
      </div>
      <details>
        <summary>Compare</summary>
        <div class="versions">
          <Version label="Mine (this tab, shown below)" content={notebookText.value} />
          <Version label={`The other version (${c.theirs.version})`} content={c.theirs.content} />
        </div>
      </details>
    </div>
  );
}
