/**
 * The `devibench` command: dispatches to its subcommands and turns errors into messages and exit
 * codes (2 for a usage error, 1 for a failed run). Library code never exits or prints.
 */
import { UsageError } from "./args.ts";
import { reportCommand } from "./report-command.ts";
import { runCommand, type CliIo } from "./run-command.ts";
import { datasetsCommand, generateCommand } from "./small-commands.ts";

export const MAIN_HELP = `Usage: devibench <command> [options]

DeViBench: how much of an MLLM's accuracy survives video encoding and a degraded network,
baseline streaming against context-aware region bitrate allocation.

Commands
  run        score a model on a dataset under every condition (devibench run --help)
  generate   render the synthetic question set
  report     re-render a run's summary and HTML report
  datasets   list the datasets and how many videos are found

Each command takes --help. ffmpeg comes from FFMPEG_PATH, ffmpeg-static, or PATH.`;

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runCommand(rest, io);
      case "generate":
        return await generateCommand(rest, io);
      case "report":
        return await reportCommand(rest, io);
      case "datasets":
        return await datasetsCommand(rest, io);
      case undefined:
      case "--help":
      case "-h":
      case "help":
        io.out(MAIN_HELP);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`devibench: ${err.message}\nRun "devibench ${command && command !== "--help" ? `${command} ` : ""}--help" for the options.`);
      return 2;
    }
    const e = err as Error & { code?: string };
    io.err(`devibench ${command}: failed${e.code ? ` (${e.code})` : ""}: ${e.message}`);
    return 1;
  }
}
