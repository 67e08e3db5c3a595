/** Entry point of `devibench`: wires the process (arguments, environment, streams) to the CLI. */
import { main } from "./cli/main.ts";

main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  writeStderr: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`devibench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
