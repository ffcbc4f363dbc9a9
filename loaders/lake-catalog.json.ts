// The lake catalog for the Catalog page: every dataset of raw, staging and curated with its
// versions (live and archived), schema, rows, bytes and lineage back to the landing files.
import { buildCatalog, openLake } from "lakebook";

process.stdout.write(JSON.stringify({ datasets: await buildCatalog(openLake().storage) }));
