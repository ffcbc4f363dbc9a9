// Monthly closes of five tickers, from the vega-datasets npm package (no network needed).
import { defineSource } from "lakebook";

export default defineSource({
  kind: "file",
  path: "node_modules/vega-datasets/data/stocks.csv",
  columns: "symbol:VARCHAR,date:DATE:%b %d %Y,price:DECIMAL(18,4)",
  description: "Monthly closes of AAPL, AMZN, GOOG, IBM and MSFT (vega-datasets)",
});
