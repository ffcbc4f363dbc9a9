/**
 * Selections, as in dbt: `curated.prices` (that node), `+curated.prices` (with everything
 * upstream), `raw.quotes+` (with everything downstream), `+x+` (both), `staging.*` (a zone), or a
 * source's name (`quotes`, its raw dataset). Several terms select their union; none selects
 * everything.
 */
import { ConfigError } from "../errors.ts";
import type { ProjectGraph } from "./graph.ts";

export interface SelectionTerm {
  name: string;
  upstream: boolean;
  downstream: boolean;
}

const TERM = /^(\+?)([A-Za-z0-9_-]+(?:\.(?:[A-Za-z0-9_-]+|\*))?)(\+?)$/;

export function parseSelection(terms: string[]): SelectionTerm[] {
  return terms.map((term) => {
    const match = TERM.exec(term);
    if (!match) {
      throw new ConfigError(
        `invalid selection '${term}': name a dataset (curated.prices), with + before for its upstream and/or after for its downstream`,
      );
    }
    return { name: match[2]!, upstream: match[1] === "+", downstream: match[3] === "+" };
  });
}

function closure(
  graph: ProjectGraph,
  start: string,
  direction: "upstream" | "downstream",
  into: Set<string>,
): void {
  for (const next of graph.nodes.get(start)?.[direction] ?? []) {
    if (into.has(next)) continue;
    into.add(next);
    closure(graph, next, direction, into);
  }
}

/** The selected node ids, in the graph's dependency order. */
export function selectNodes(graph: ProjectGraph, terms: string[]): string[] {
  if (terms.length === 0) return [...graph.order];
  const selected = new Set<string>();
  for (const term of parseSelection(terms)) {
    const matches = matchTerm(graph, term.name);
    for (const id of matches) {
      selected.add(id);
      if (term.upstream) closure(graph, id, "upstream", selected);
      if (term.downstream) closure(graph, id, "downstream", selected);
    }
  }
  return graph.order.filter((id) => selected.has(id));
}

function matchTerm(graph: ProjectGraph, name: string): string[] {
  if (name.endsWith(".*")) {
    const zone = name.slice(0, -2);
    const ids = graph.order.filter((id) => graph.nodes.get(id)!.zone === zone);
    if (ids.length > 0) return ids;
  } else if (graph.nodes.has(name)) return [name];
  else {
    const bySource = graph.order.filter((id) => graph.nodes.get(id)!.source?.name === name);
    if (bySource.length > 0) return bySource;
  }
  const known = graph.order.length > 0 ? graph.order.join(", ") : "none: add sources/ and models/";
  throw new ConfigError(`nothing in the project is named '${name}': choose from ${known}`);
}
