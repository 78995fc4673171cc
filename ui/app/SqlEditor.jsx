// SqlEditor.jsx: a cell's editor, CodeMirror 6 with its SQL language (or,
// with language="markdown", plain text for a Markdown cell).
// Mod-Enter runs the cell (or only its selection), Alt-Enter the statement
// at the cursor, Shift-Enter runs the cell and moves to the next one,
// Shift-Alt-F formats it (sql-formatter, DuckDB dialect), Mod-/ comments,
// Mod-F finds and replaces, Mod-D (next match) and Ctrl-click add
// cursors, Alt-drag selects a rectangle,
// Escape hands the keys to the notebook (command mode).
// An error's position (a character offset into the text) is underlined
// from it to the end of its word.
//
// The editor lives in a shadow root: there CodeMirror puts its styles in an
// adopted stylesheet, where in the document it would write a <style> element
// that the page's Content-Security-Policy (style-src 'self') refuses.  Its
// look is therefore an EditorView.theme, on the page's colour variables
// (custom properties cross the shadow boundary).

import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { Decoration, EditorView, drawSelection, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  rectangularSelection } from '@codemirror/view';
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, toggleComment } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { autocompletion, closeBrackets } from '@codemirror/autocomplete';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { sql, PostgreSQL } from '@codemirror/lang-sql';
import { format } from 'sql-formatter';
import { completeAt } from './completion.js';
import { sqlWords } from './sql_words.js';
import { catalog } from './store.js';
import { setEditor } from './focus.js';
import './SqlEditor.css';

const look = EditorView.theme({
  '&': { font: '13px/1.45 ui-monospace, monospace', maxHeight: '24rem', color: 'var(--fg)', backgroundColor: 'var(--bg-input)' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-1px' },
  '.cm-scroller': { fontFamily: 'inherit' },
  '.cm-gutters': { backgroundColor: 'var(--bg-soft)', color: 'var(--muted)', borderRight: '1px solid var(--line)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'var(--bg-active)' },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-cursor': { borderLeftColor: 'var(--fg)' },
  '.cm-error-at': { textDecoration: 'underline wavy var(--bad)', textUnderlineOffset: '3px' },
});

// SQL colours from the page's theme variables (App.css), light and dark alike
const colours = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syn-keyword)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syn-string)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--syn-number)' },
  { tag: [tags.lineComment, tags.blockComment], color: 'var(--syn-comment)', fontStyle: 'italic' },
  { tag: [tags.function(tags.variableName), tags.standard(tags.name)], color: 'var(--syn-function)' },
  { tag: [tags.typeName], color: 'var(--syn-function)' },
]);

// the error's underline: set by an effect, dropped at the next edit
const setErrorAt = StateEffect.define();
const errorMark = Decoration.mark({ class: 'cm-error-at', attributes: { 'data-testid': 'cell-error-mark' } });
const errorField = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    if (tr.docChanged) marks = Decoration.none;
    for (const e of tr.effects) {
      if (!e.is(setErrorAt)) continue;
      const doc = tr.state.doc;
      if (e.value === null || e.value > doc.length) {
        marks = Decoration.none;
        continue;
      }
      const from = Math.min(e.value, Math.max(0, doc.length - 1));
      const word = /^[\w."]+/.exec(doc.sliceString(from, Math.min(doc.length, from + 200)));
      marks = Decoration.set([errorMark.range(from, Math.min(doc.length, from + Math.max(1, word ? word[0].length : 1)))]);
    }
    return marks;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/**
 * Format the selection (or the whole text) with sql-formatter's DuckDB
 * dialect, keywords in capitals.  Text it cannot parse stays as it is.
 */
function formatSql(view) {
  const { state } = view;
  const ranges = state.selection.ranges.some((r) => !r.empty)
    ? state.selection.ranges.filter((r) => !r.empty) : [{ from: 0, to: state.doc.length }];
  const changes = [];
  for (const r of ranges) {
    try {
      changes.push({ from: r.from, to: r.to, insert: format(state.sliceDoc(r.from, r.to), { language: 'duckdb', keywordCase: 'upper' }) });
    } catch {
      return true; // not SQL it can read: nothing changes
    }
  }
  view.dispatch({ changes, userEvent: 'input.format' });
  return true;
}

// completion from both catalogs and DuckDB's words (completion.js)
const completeSql = autocompletion({
  override: [(ctx) => completeAt(ctx.state.doc.toString(), ctx.pos, catalog.peek(), sqlWords.peek(), { explicit: ctx.explicit })],
  activateOnTypingDelay: 0, // the list follows each key at once (its options are built once per catalog)
  interactionDelay: 0, // Enter right after the list shows accepts, as in other SQL IDEs
});

// Typing over a selection: Chromium's own editing would wrap the new text
// in a styled element, which the page's CSP refuses, and CodeMirror then
// reads the damaged DOM back with an extra empty line (a multi-line
// selection replaced by "x" became "x\n").  The editor makes that edit
// itself instead.
const typeOverSelection = EditorView.domEventHandlers({
  beforeinput(e, view) {
    if (e.inputType !== 'insertText' || e.data == null || view.state.selection.ranges.every((r) => r.empty)) return false;
    e.preventDefault();
    view.dispatch(view.state.update(view.state.replaceSelection(e.data), { userEvent: 'input.type', scrollIntoView: true }));
    return true;
  },
});

/**
 * A cell's editor.  CodeMirror is made when the cell comes near the screen
 * (or is asked for the keys, focus.js): until then the cell shows its text
 * in a plain block, so a notebook of hundreds of cells opens without making
 * hundreds of editors.
 */
export function SqlEditor({ id, source, onRun, onRunStatement, onRunNext, onFocus, onEscape, errorAt = null, language = 'sql' }) {
  const frame = useRef(null);
  const plain = useRef(null);
  const host = useRef(null);
  const view = useRef(null);
  const make = useRef(null);
  const error = useRef(errorAt);
  error.current = errorAt;
  // registered in the same commit as the cell's DOM, so that a key pressed as
  // soon as the cell shows already finds its editor (focus.js)
  useLayoutEffect(() => {
    make.current = () => {
      if (view.current) return view.current;
      const root = host.current.attachShadow({ mode: 'open' });
      view.current = new EditorView({
        root,
        parent: root,
        state: EditorState.create({
          doc: source.peek(),
          extensions: [
            keymap.of([
              { key: 'Mod-Enter', run: (v) => { // the selection only, when there is one
                const sel = v.state.selection.main;
                onRun(sel.empty ? {} : { from: sel.from, to: sel.to });
                return true;
              } },
              { key: 'Alt-Enter', run: (v) => { onRunStatement?.(v.state.selection.main.head); return Boolean(onRunStatement); } },
              { key: 'Shift-Enter', run: () => { onRunNext(); return true; } },
              { key: 'Mod-/', run: toggleComment },
              ...(language === 'sql' ? [{ key: 'Shift-Alt-f', run: formatSql }] : []),
              { key: 'Escape', run: () => { onEscape?.(); return true; } },
              ...searchKeymap, ...historyKeymap, ...defaultKeymap,
            ]),
            EditorState.allowMultipleSelections.of(true), drawSelection(), rectangularSelection(),
            lineNumbers(), history(), bracketMatching(), closeBrackets(), highlightActiveLine(), highlightActiveLineGutter(),
            highlightSelectionMatches(), syntaxHighlighting(colours), look, errorField, typeOverSelection,
            language === 'sql' ? [sql({ dialect: PostgreSQL, upperCaseKeywords: true }), completeSql] : EditorView.lineWrapping,
            EditorView.updateListener.of((u) => {
              if (u.docChanged) source.value = u.state.doc.toString();
              if (u.focusChanged && u.view.hasFocus) onFocus?.();
            }),
            EditorView.contentAttributes.of({ 'aria-label': language === 'sql' ? 'SQL' : 'Markdown', 'data-testid': 'cell-input' }),
          ],
        }),
      });
      if (error.current !== null) view.current.dispatch({ effects: setErrorAt.of(error.current) });
      plain.current.hidden = true;
      host.current.hidden = false;
      return view.current;
    };
    setEditor(id, { focus: () => make.current().focus() });
    const near = new IntersectionObserver((seen) => {
      if (!seen.some((e) => e.isIntersecting)) return;
      near.disconnect();
      make.current();
    }, { rootMargin: '600px 0px' });
    near.observe(frame.current);
    return () => {
      near.disconnect();
      setEditor(id, null);
      view.current?.destroy();
    };
  }, []);
  useEffect(() => { view.current?.dispatch({ effects: setErrorAt.of(errorAt) }); }, [errorAt]);
  return (
    <div class="editor-frame" ref={frame}>
      <pre class="editor-plain" ref={plain} onMouseDown={(e) => { e.preventDefault(); make.current().focus(); }}>
        {source.peek() || ' '}
      </pre>
      <div class="sql-editor" data-testid="cell-editor" ref={host} hidden />
    </div>
  );
}
