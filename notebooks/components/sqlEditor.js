/**
 * The explorer's SQL editor: CodeMirror 6 with SQL highlighting, completion of the datasets the
 * reader may read (`curated.prices`, with the zone) and of their columns, Ctrl/Cmd+Enter to run,
 * and errors marked where they are (an underline with the message, and the cursor moved there).
 *
 * This module is not loaded by Framework directly: loaders/explorer-editor.js.ts bundles it with
 * esbuild into one self-contained, content-hashed file served from the site (CodeMirror's packages
 * must share one instance of @codemirror/state, which per-package npm bundles would not).
 */
import { autocompletion, closeBrackets, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { StandardSQL, keywordCompletionSource, sql } from "@codemirror/lang-sql";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorSelection, Prec } from "@codemirror/state";
import { EditorView, keymap, placeholder } from "@codemirror/view";
import { datasetCompletions } from "./sqlCompletions.js";

const theme = EditorView.theme({
  "&": {
    maxWidth: "960px",
    border: "1px solid var(--theme-foreground-faint, #ccc)",
    borderRadius: "4px",
    fontSize: "14px",
    background: "var(--theme-background, #fff)",
  },
  "&.cm-focused": { outline: "2px solid var(--theme-foreground-focus, #4269d0)" },
  ".cm-scroller": { fontFamily: "var(--monospace, monospace)", minHeight: "7.5em", maxHeight: "40vh" },
  ".cm-content": { padding: "0.5rem 0" },
  ".cm-tooltip-autocomplete ul li": { fontFamily: "var(--monospace, monospace)" },
});

/**
 * @param options.doc       the initial SQL
 * @param options.datasets  [{zone, dataset, rowCount, schema: [{name, type}]}] the reader may read
 * @param options.onRun     called on Ctrl/Cmd+Enter
 * @returns {{dom, view, getValue(): string, setValue(sql: string): void, showError(position: number|undefined, message: string): void, clearError(): void, focus(): void}}
 */
export function createSqlEditor({ doc = "", datasets = [], onRun = () => {} } = {}) {
  const run = () => {
    onRun();
    return true;
  };
  let hasError = false;
  const view = new EditorView({
    doc,
    extensions: [
      Prec.highest(keymap.of([{ key: "Mod-Enter", run, preventDefault: true }])),
      history(),
      closeBrackets(),
      bracketMatching(),
      sql({ dialect: StandardSQL }),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      autocompletion({
        override: [datasetCompletions(datasets), keywordCompletionSource(StandardSQL, true)],
        activateOnTyping: true,
      }),
      keymap.of([...completionKeymap, ...historyKeymap, ...defaultKeymap]),
      lintGutter(),
      placeholder("SELECT … FROM curated.<dataset>"),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        "aria-label": "SQL query",
        "data-testid": "sql",
        spellcheck: "false",
      }),
      // An edit makes the last error's mark stale: it goes until the next run.
      EditorView.updateListener.of((update) => {
        if (update.docChanged && hasError) clearError();
      }),
      theme,
    ],
  });

  function clearError() {
    hasError = false;
    view.dispatch(setDiagnostics(view.state, []));
    delete view.dom.dataset.errorAt;
  }

  function showError(position, message) {
    if (position === undefined || position === null || Number.isNaN(position)) return clearError();
    const length = view.state.doc.length;
    const from = Math.max(0, Math.min(position, length));
    const word = view.state.wordAt(from);
    const to = word && word.from === from ? word.to : Math.min(length, from + 1);
    view.dispatch(
      setDiagnostics(view.state, [{ from, to: Math.max(to, from), severity: "error", message }]),
      {
        selection: EditorSelection.cursor(from),
        scrollIntoView: true,
      },
    );
    view.dom.dataset.errorAt = String(from);
    hasError = true;
    view.focus();
  }

  return {
    dom: view.dom,
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    showError,
    clearError,
    focus: () => view.focus(),
  };
}
