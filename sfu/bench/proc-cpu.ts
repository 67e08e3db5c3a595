/**
 * CPU accounting from Linux procfs (proc(5)): per-process utime + stime from /proc/<pid>/stat,
 * the process tree from its ppid field, command lines from /proc/<pid>/cmdline, and the machine's
 * busy share from /proc/stat. `process.cpuUsage()` (getrusage RUSAGE_SELF) covers this Node process
 * only, never its children, so child processes are read here.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime, in seconds. */
  readonly cpuSec: number;
  /** cutime + cstime: children it has waited for (reaped), in seconds. */
  readonly reapedChildrenSec: number;
}

let ticksPerSec: number | null = null;

/** USER_HZ (sysconf(_SC_CLK_TCK)); 100 on every common Linux, asked once through getconf. */
export function clockTicksPerSec(): number {
  if (ticksPerSec === null) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      ticksPerSec = Number.isInteger(n) && n > 0 ? n : 100;
    } catch {
      ticksPerSec = 100;
    }
  }
  return ticksPerSec;
}

/** Parses one /proc/<pid>/stat line; the command name may hold spaces and parentheses. */
export function parseProcStat(line: string, hz: number): ProcStat | null {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const rest = line.slice(close + 2).split(" ");
  // After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime
  const [ppid, utime, stime, cutime, cstime] = [1, 11, 12, 13, 14].map((i) => Number(rest[i]));
  if (![ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return null;
  return {
    pid: Number(line.slice(0, open).trim()), ppid: ppid!, comm: line.slice(open + 1, close),
    cpuSec: (utime! + stime!) / hz, reapedChildrenSec: (cutime! + cstime!) / hz,
  };
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"), clockTicksPerSec());
  } catch {
    return null; // gone
  }
}

export function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((s) => s !== "");
  } catch {
    return [];
  }
}

/** Every process whose parent is `ppid`. */
export function childrenOf(ppid: number): ProcStat[] {
  const hz = clockTicksPerSec();
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${name}/stat`, "utf8"), hz);
      if (s && s.ppid === ppid) out.push(s);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Children, grandchildren, ... of `pid`. */
export function descendantsOf(pid: number): ProcStat[] {
  const out: ProcStat[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of childrenOf(queue.shift()!)) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/**
 * The server's stream decoders: ffmpeg reading IVF on stdin (sfu/media/decoder.ts). The
 * publishers' ffmpeg read a file or raw video, so the arguments tell them apart.
 */
export function isReceiveDecoder(cmdline: readonly string[]): boolean {
  const s = cmdline.join(" ");
  return s.includes("-f ivf -i pipe:0");
}

/** Busy and total jiffies of all CPUs (first line of /proc/stat). */
export function machineJiffies(): { busy: number; total: number } {
  const first = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export interface CpuWindowResult {
  readonly wallSec: number;
  /** This Node process (user + system), percent of one core. */
  readonly nodePercent: number;
  /** This process's receive decoders (ffmpeg), percent of one core. */
  readonly decoderPercent: number;
  /** Decoders alive at the end of the window. */
  readonly decoderPids: number[];
  /** Another process tree (the publisher worker and its ffmpeg), percent of one core. */
  readonly otherTreePercent: number | null;
  /** All CPUs busy, percent of the whole machine (100 = every core busy). */
  readonly machineBusyPercent: number;
  /**
   * Busy CPU not accounted to this process, its decoders or the other tree, percent of one core:
   * other programs on the machine (or this process's other children). Large = disturbed figures.
   */
  readonly unaccountedPercent: number;
}

/**
 * One measurement window: a snapshot when made, the difference at `end()`. A process tree's CPU is
 * what its live processes used plus what its root reaped (cutime + cstime), so a child that starts
 * or exits inside the window is counted for the part it ran inside it. For this process's decoders
 * the reaped share is this process's cutime, which is fair only while the decoders are the only
 * children that end: true in the bench's windows (the publisher worker lives on).
 */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly node0 = process.cpuUsage();
  private readonly dec0: number;
  private readonly other0: number | null;
  private readonly mach0 = machineJiffies();

  constructor(private readonly otherRoot: number | null = null) {
    this.dec0 = decoderSec().total;
    this.other0 = otherRoot === null ? null : treeSec(otherRoot);
  }

  end(): CpuWindowResult {
    const wallSec = (performance.now() - this.t0) / 1000;
    const node = process.cpuUsage(this.node0);
    const dec = decoderSec();
    const other = this.otherRoot === null || this.other0 === null ? null : treeSec(this.otherRoot) - this.other0;
    const m = machineJiffies();
    const pct = (sec: number) => (100 * sec) / wallSec;
    const busy = (100 * (m.busy - this.mach0.busy)) / Math.max(1, m.total - this.mach0.total);
    const nodePercent = pct((node.user + node.system) / 1e6);
    const decoderPercent = pct(dec.total - this.dec0);
    const otherTreePercent = other === null ? null : pct(other);
    return {
      wallSec, nodePercent, decoderPercent, decoderPids: dec.pids, otherTreePercent,
      machineBusyPercent: busy,
      unaccountedPercent: Math.max(0, busy * cpus().length - nodePercent - decoderPercent - (otherTreePercent ?? 0)),
    };
  }
}

function decoderSec(): { total: number; pids: number[] } {
  let total = readProcStat(process.pid)?.reapedChildrenSec ?? 0;
  const pids: number[] = [];
  for (const c of childrenOf(process.pid)) {
    if (!isReceiveDecoder(readCmdline(c.pid))) continue;
    total += c.cpuSec;
    pids.push(c.pid);
  }
  return { total, pids };
}

function treeSec(root: number): number {
  const self = readProcStat(root);
  if (!self) return 0;
  let total = self.cpuSec + self.reapedChildrenSec;
  // Grandchildren reaped by a child are in that child's own cutime.
  for (const d of descendantsOf(root)) total += d.cpuSec + d.reapedChildrenSec;
  return total;
}
