// The curated datasets the explorer can query, with the lake URLs of their current files.
import { describeVersion, listHeads, openLake } from "lakebook";

const heads = await listHeads(openLake().storage, "curated");
process.stdout.write(JSON.stringify({ datasets: heads.map(describeVersion) }));
