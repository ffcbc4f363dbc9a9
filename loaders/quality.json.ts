// Data quality (Data Docs) data: for every dataset with validation runs, the newest run in full
// (results and sample failing rows) and the history of runs. A blocked promotion is what this
// page reports, so it never fails the build.
import { openLake, qualityReport } from "lakebook";

process.stdout.write(JSON.stringify(await qualityReport(openLake())));
