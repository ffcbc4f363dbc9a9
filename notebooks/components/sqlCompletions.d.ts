/** Types of sqlCompletions.js for its tests. */
import type { CompletionSource } from "@codemirror/autocomplete";

export declare function datasetCompletions(
  datasets: readonly {
    zone: string;
    dataset: string;
    rowCount?: number;
    schema?: readonly { name: string; type: string }[];
  }[],
): CompletionSource;
