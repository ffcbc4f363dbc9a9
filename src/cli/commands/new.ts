/** `lakebook new <dir>`: scaffolds a working project (src/project/scaffold.ts). */
import { CliError } from "../../errors.ts";
import { scaffoldProject } from "../../project/scaffold.ts";
import { parseCommandArgs } from "./lakeOutput.ts";

export async function newProject(options: { args?: string[] }): Promise<void> {
  const { values, positionals } = parseCommandArgs("new", options.args ?? [], {
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write("Usage: lakebook new <dir>\n\nScaffolds a working Lakebook project in <dir>.\n");
    return;
  }
  const [dir, extra] = positionals;
  if (dir === undefined || extra !== undefined)
    throw new CliError("lakebook new takes one folder: lakebook new <dir>");
  const files = await scaffoldProject(dir);
  console.log(
    `created ${files.length} files in ${dir}; next:\n\n  cd ${dir} && npm install && npm run demo\n`,
  );
}
