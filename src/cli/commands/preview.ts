import { configFromEnv } from "../../config.ts";
import { linkLoaders, vendorNpmCache } from "../../site/index.ts";
import { startPreview } from "../../../server/index.ts";
import { untilSignal } from "../signals.ts";

export async function preview(options: { port?: number; host?: string }): Promise<void> {
  const config = configFromEnv(process.env, {
    ...(options.port !== undefined && { port: options.port }),
    ...(options.host !== undefined && { host: options.host }),
  });
  await linkLoaders(config);
  await vendorNpmCache(config.notebooksDir);
  const server = await startPreview(config);
  console.log(`Lakebook preview (live reload) at ${server.url}/`);
  await untilSignal();
  await server.close();
}
