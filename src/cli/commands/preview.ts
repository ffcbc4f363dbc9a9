import { linkLoaders, readFrameworkProject } from "../../site/index.ts";
import { startPreview } from "../../../server/index.ts";
import { projectFromOptions, type ProjectOptions } from "../projectRoot.ts";
import { untilSignal } from "../signals.ts";

export async function preview(options: ProjectOptions): Promise<void> {
  const { config, project } = projectFromOptions(options);
  let server;
  if (project.kind === "framework") {
    const framework = await readFrameworkProject(project.root);
    // Framework runs loaders from the working directory, which is the project's when it runs.
    process.chdir(framework.root);
    server = await startPreview(config, {}, { framework });
  } else {
    await linkLoaders(config);
    server = await startPreview(config);
  }
  console.log(`Lakebook preview (live reload) at ${server.url}/`);
  await untilSignal();
  await server.close();
}
