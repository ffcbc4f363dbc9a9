// One ticker's closes, for the page per ticker (notebooks/ticker/[ticker].md). Framework runs this
// loader once per page with `--ticker=<value>`; reading only that ticker's rows lets the build
// reuse the output while they are unchanged, even when other tickers got new data.
import { parseArgs } from "node:util";
import { readDataset } from "lakebook";

const { values } = parseArgs({ options: { ticker: { type: "string" } } });
if (!values.ticker) throw new Error("run as a page loader: data/ticker/<ticker>.json (--ticker=<ticker>)");
const { snapshot, quality } = await readDataset("curated.prices", { where: { ticker: values.ticker } });
process.stdout.write(JSON.stringify({ ...snapshot, ticker: values.ticker, quality }));
