import { createInterface } from "node:readline";

/**
 * A secret typed at the terminal (not echoed) or piped on stdin (`printf '%s' "$PW" | lakebook …`),
 * never taken from the command line, where `ps` and shell history would show it.
 */
export async function readHiddenInput(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  return new Promise<string>((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const internals = rl as unknown as { _writeToOutput: (s: string) => void };
    const write = internals._writeToOutput;
    // Echo the prompt only, never the typed characters.
    internals._writeToOutput = (s: string) => {
      if (s.includes(prompt)) write.call(rl, prompt);
    };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
  });
}
