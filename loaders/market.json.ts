// Market overview data: the curated prices snapshot with the version it came from and its quality
// status (`lakebook run` keeps it up to date). When newer data failed its quality gate, the snapshot
// is the last good version and `quality.warning` says so on the page; `lakebook build --strict`
// fails the build instead.
import { readDataset } from "lakebook";

const { snapshot, quality } = await readDataset("curated.prices");
process.stdout.write(JSON.stringify({ ...snapshot, quality }));
