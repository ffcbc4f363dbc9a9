// The S&P 500 index, monthly, from the vega-datasets npm package.
import { defineSource } from "lakebook";

export default defineSource({
  kind: "file",
  path: "node_modules/vega-datasets/data/sp500.csv",
  columns: "date:DATE:%b %d %Y,price:DECIMAL(18,4)",
  description: "The S&P 500 index, monthly (vega-datasets)",
});
