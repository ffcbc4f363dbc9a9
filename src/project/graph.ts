/**
 * The project's dependency graph: a node per source (providing `raw.<dataset>`) and per model
 * (providing `<zone>.<dataset>`), an edge for every dataset a model's SQL names. Built before
 * anything runs: a name nothing provides, a dataset provided twice and a cycle are refused with
 * the file and line that cause them.
 */
import { ConfigError } from "../errors.ts";
import type { VersionedZone } from "../lake/index.ts";
import type { ProjectSource } from "./defineSource.ts";
import type { ProjectModel } from "./modelFile.ts";

export interface GraphNode {
  /** `<zone>.<dataset>` */
  id: string;
  kind: "source" | "model";
  zone: VersionedZone;
  dataset: string;
  file: string;
  upstream: string[];
  downstream: string[];
  source?: ProjectSource;
  model?: ProjectModel;
}

export interface ProjectGraph {
  nodes: Map<string, GraphNode>;
  /** Every node id, upstream before downstream (ties by id). */
  order: string[];
}

export function buildGraph(sources: ProjectSource[], models: ProjectModel[]): ProjectGraph {
  const nodes = new Map<string, GraphNode>();
  const add = (node: GraphNode) => {
    const other = nodes.get(node.id);
    if (other)
      throw new ConfigError(`${node.id} is provided twice, by ${other.file} and ${node.file}: rename one`);
    nodes.set(node.id, node);
  };
  for (const source of sources) {
    add({
      id: `raw.${source.dataset}`,
      kind: "source",
      zone: "raw",
      dataset: source.dataset,
      file: source.file,
      upstream: [],
      downstream: [],
      source,
    });
  }
  for (const model of models) {
    add({
      id: model.id,
      kind: "model",
      zone: model.zone,
      dataset: model.dataset,
      file: model.file,
      upstream: [],
      downstream: [],
      model,
    });
  }
  for (const model of models) {
    const node = nodes.get(model.id)!;
    for (const ref of model.references) {
      const id = `${ref.zone}.${ref.dataset}`;
      if (!nodes.has(id)) {
        const known = [...nodes.keys()].sort().join(", ");
        throw new ConfigError(
          `${model.file}:${ref.line}: unknown dataset '${id}': no source or model provides it (known: ${known}); add sources/<name>.ts or models/${ref.zone}/${ref.dataset}.sql, or fix the name`,
        );
      }
      if (!node.upstream.includes(id)) node.upstream.push(id);
      if (!nodes.get(id)!.downstream.includes(model.id)) nodes.get(id)!.downstream.push(model.id);
    }
  }
  return { nodes, order: topologicalOrder(nodes) };
}

function topologicalOrder(nodes: Map<string, GraphNode>): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      const cycle = path.slice(path.indexOf(id));
      const steps = cycle.map((from, i) => {
        const to = cycle[(i + 1) % cycle.length]!;
        const model = nodes.get(from)!.model!;
        const [zone, dataset] = [to.slice(0, to.indexOf(".")), to.slice(to.indexOf(".") + 1)];
        const line = model.references.find((r) => r.zone === zone && r.dataset === dataset)?.line ?? 1;
        return `${model.file}:${line} (${from} reads ${to})`;
      });
      throw new ConfigError(
        `a cycle of models: ${steps.join(", ")}; a model cannot read its own output, directly or through others`,
      );
    }
    state.set(id, "visiting");
    for (const up of [...nodes.get(id)!.upstream].sort()) visit(up, [...path, id]);
    state.set(id, "done");
    order.push(id);
  };
  for (const id of [...nodes.keys()].sort()) visit(id, []);
  return order;
}
