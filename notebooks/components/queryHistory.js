/** The explorer's query history, newest first, kept in this browser (localStorage). */
const KEY = "lakebook.explorer.history";
const MAX = 50;

export function createHistory(storage = globalThis.localStorage) {
  const read = () => {
    try {
      const list = JSON.parse(storage?.getItem(KEY) ?? "[]");
      return Array.isArray(list) ? list.filter((s) => typeof s === "string") : [];
    } catch {
      return [];
    }
  };
  return {
    list: read,
    add(sql) {
      const list = [sql, ...read().filter((s) => s !== sql)].slice(0, MAX);
      try {
        storage?.setItem(KEY, JSON.stringify(list));
      } catch {
        // Storage full or disabled: the history is a convenience, the query still ran.
      }
    },
  };
}
