import { configFromEnv } from "../../config.ts";
import { startServer } from "../../../server/index.ts";
import { untilSignal } from "../signals.ts";

export async function serve(options: { port?: number; host?: string }): Promise<void> {
  const config = configFromEnv(process.env, {
    ...(options.port !== undefined && { port: options.port }),
    ...(options.host !== undefined && { host: options.host }),
  });
  const server = await startServer(config);
  console.log(`Lakebook is serving ${config.siteDir} and the curated lake at ${server.url}/`);
  await untilSignal();
  await server.close();
}
